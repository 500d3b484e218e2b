namespace BackupManager.Core.Jobs;

/// <summary>What a job does: make a backup, restore one, copy off-site now, fetch one from a destination and restore
/// it, or run a restore drill.</summary>
public enum BackupJobKind { Create, Restore, Copy, FetchRestore, Drill }
