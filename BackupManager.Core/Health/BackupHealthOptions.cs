namespace BackupManager.Core.Health;

/// <summary>Thresholds of the health checks.</summary>
public sealed class BackupHealthOptions
{
    /// <summary>The newest backup must be younger than this many hours (Backup__MaxAgeHours).</summary>
    public double MaxAgeHours { get; set; } = 26;
    /// <summary>Optional cap on the total size of the backup folder in bytes (Backup__MaxTotalBytes); 0 means
    /// none.</summary>
    public long MaxTotalBytes { get; set; }
    /// <summary>With a drill schedule, the last restore drill must be younger than this many days
    /// (Backup__MaxDrillAgeDays).</summary>
    public double MaxDrillAgeDays { get; set; } = 8;
}
