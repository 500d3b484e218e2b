namespace BackupManager.Core.Jobs;

/// <summary>A restore to a point in time as its job carries it: the target, and once the archive exists, its name,
/// the base backup it was recovered from and the backup the files came from (null: database only).</summary>
public sealed record PointInTimeJob(DateTimeOffset Target, string? Archive = null, string? BaseBackup = null,
    string? FilesFrom = null);
