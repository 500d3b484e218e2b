namespace BackupManager.Core.Pitr;

/// <summary>Another installation's slot (a <c>backupmanager_</c> slot that is not this backup folder's) that no
/// receiver streams from, and the WAL it keeps on the database server: a backup folder that moved leaves one.
/// </summary>
public sealed record StaleSlot(string Name, long RetainedBytes);
