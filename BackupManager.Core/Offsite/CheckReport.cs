namespace BackupManager.Core.Offsite;

/// <summary>What <c>app:check-destination</c> found.</summary>
public sealed record CheckReport(string Destination, int Backups, int Objects, int Sampled, long SampledBytes,
    IReadOnlyList<string> Problems)
{
    public bool Healthy => Problems.Count == 0;
}
