namespace BackupManager.Core.Offsite;

/// <summary>What one copy run did at one destination.</summary>
public sealed record CopyReport(string Destination, IReadOnlyList<string> Copied, long BytesSent, long BytesReused,
    IReadOnlyList<string> Removed, string? Error)
{
    public bool Succeeded => Error is null;
}
