namespace BackupManager.Core.Locking;

/// <summary>Who holds the operation lock, shown to whoever is refused. <paramref name="Instance"/> is set in cluster
/// mode only (the process id means nothing on another host).</summary>
public sealed record LockHolder(string Operation, string Actor, int ProcessId, DateTimeOffset Since,
    string? Instance = null);
