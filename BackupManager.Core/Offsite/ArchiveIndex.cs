namespace BackupManager.Core.Offsite;

/// <summary>The encrypted recipe of one archive: its segments in order, and the SHA-256 of the whole.</summary>
public sealed record ArchiveIndex
{
    public int Format { get; init; } = OffsiteFormat.Version;
    public required string Filename { get; init; }
    public long Size { get; init; }
    public required string Sha256 { get; init; }
    public required IReadOnlyList<IndexSegment> Segments { get; init; }
}
