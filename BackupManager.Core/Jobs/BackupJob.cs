using BackupManager.Core.Drills;
using BackupManager.Core.Offsite;

namespace BackupManager.Core.Jobs;

/// <summary>
/// A snapshot of a background job, as the pages and the API show it. Immutable: the runner publishes a new snapshot
/// on every change. <see cref="Destination"/> is the destination of a copy or a fetch (null: every destination);
/// <see cref="Copies"/> and <see cref="Drill"/> hold what a finished copy or drill found; <see cref="PointInTime"/>
/// what a restore to a point in time aims at and, once done, used.
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
    string? Warning = null,
    string? Destination = null,
    IReadOnlyList<CopyReport>? Copies = null,
    DrillResult? Drill = null,
    PointInTimeJob? PointInTime = null)
{
    public bool IsFinished => Status is BackupJobStatus.Succeeded or BackupJobStatus.Failed;

    /// <summary>Whether it restores into the live database and folders (the page then re-checks the session).
    /// </summary>
    public bool Restores => Kind is BackupJobKind.Restore or BackupJobKind.FetchRestore
        or BackupJobKind.PointInTimeRestore;
}
