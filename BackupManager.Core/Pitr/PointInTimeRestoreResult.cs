namespace BackupManager.Core.Pitr;

/// <summary>A restore to a point in time: the archive made for it and what the engine's restore did with it.</summary>
public sealed record PointInTimeRestoreResult(PointInTimeArchive Archive, RestoreResult Result);
