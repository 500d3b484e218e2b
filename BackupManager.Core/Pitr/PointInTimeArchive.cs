namespace BackupManager.Core.Pitr;

/// <summary>
/// A normal archive (trigger point-in-time) holding the database as it was at <see cref="Target"/>, recovered from
/// base backup <see cref="BaseBackup"/>, and the files of backup <see cref="FilesFrom"/> (the newest made at or
/// before the target; null for a database-only archive).
/// </summary>
public sealed record PointInTimeArchive(string Filename, DateTimeOffset Target, string BaseBackup, string? FilesFrom);
