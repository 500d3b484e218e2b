namespace BackupManager.Core.Locking;

/// <summary>Who holds the operation lock, shown to whoever is refused.</summary>
public sealed record LockHolder(string Operation, string Actor, int ProcessId, DateTimeOffset Since);
