namespace BackupManager.Core.Jobs;

/// <summary>What a job does: make a backup, restore one, copy off-site now, fetch one from a destination and restore
/// it, run a restore drill, or restore the database (and files) to a point in time.</summary>
public enum BackupJobKind { Create, Restore, Copy, FetchRestore, Drill, PointInTimeRestore }
