namespace BackupManager.Core.Jobs;

public enum BackupJobKind { Create, Restore }

public enum BackupJobStatus { Queued, Running, Succeeded, Failed }

/// <summary>
/// A snapshot of a background create or restore, as the page and the API show it. Immutable: the runner publishes a
/// new snapshot on every change.
/// </summary>
public sealed record BackupJob(
    Guid Id,
    BackupJobKind Kind,
    BackupJobStatus Status,
    string RequestedBy,
    DateTimeOffset CreatedAt,
    BackupScope Scope,
    BackupProgress? Progress = null,
    string? Filename = null,
    string? Error = null,
    BackupErrorKind? ErrorKind = null,
    string? SafetyBackup = null,
    DateTimeOffset? FinishedAt = null,
    string? Warning = null)
{
    public bool IsFinished => Status is BackupJobStatus.Succeeded or BackupJobStatus.Failed;
}
