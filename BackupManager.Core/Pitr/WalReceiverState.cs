namespace BackupManager.Core.Pitr;

/// <summary>What this process's WAL receiver is doing: its pg_receivewal's pid while running, restarts, last
/// error.</summary>
public sealed record WalReceiverState(bool Running, int? ProcessId, DateTimeOffset? StartedAt, int Restarts,
    string? LastError);
