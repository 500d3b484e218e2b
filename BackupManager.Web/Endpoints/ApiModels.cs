using BackupManager.Core;
using BackupManager.Core.Jobs;

namespace BackupManager.Web.Endpoints;

/// <summary>A backup as the API shows it (snake_case JSON, UTC times ending in Z); <c>foreign</c>: not made by this
/// installation.</summary>
public sealed record BackupDto(string Filename, long Size, DateTime CreatedAt, string Trigger,
    IReadOnlyList<string> Contains, bool Pinned, string? RequestedBy, bool Readable,
    bool Foreign)
{
    /// <summary>Per off-site destination: copied, pending, failed or not-kept (absent when none is
    /// configured).</summary>
    public IReadOnlyDictionary<string, BackupManager.Core.Offsite.CopyState>? Copies { get; init; }

    public static BackupDto From(BackupInfo b) =>
        new(b.Filename, b.Size, b.CreatedAt.UtcDateTime, b.Trigger.ToName(), b.Contains, b.Pinned, b.RequestedBy,
            b.Readable, b.Foreign);
}

/// <summary>An off-site destination and its state, as GET /api/v1/destinations shows it.</summary>
public sealed record DestinationDto(string Name, string Type, string Location, bool Encrypted, bool NeverDelete,
    DateTime? LastSuccessAt, DateTime? LastAttemptAt,
    string? LastError, int ConsecutiveFailures, IReadOnlyList<string> Held, IReadOnlyList<string> Pending,
        double? LagHours, int MaxLagHours,
    DateTime? LastCheckAt, IReadOnlyList<string> CheckProblems, bool Healthy)
{
    public static DestinationDto From(BackupManager.Core.Offsite.DestinationStatus d, DateTimeOffset now, bool healthy)
        => new(
        d.Name, d.Type, d.Location, d.Encrypted, d.NeverDelete, d.State.LastSuccessAt?.UtcDateTime,
            d.State.LastAttemptAt?.UtcDateTime, d.State.LastError,
        d.State.ConsecutiveFailures, d.State.Held, d.Pending, d.OldestPendingAt is { } oldest
            ? Math.Round((now - oldest).TotalHours, 1) : null, d.MaxLagHours,
        d.State.LastCheckAt?.UtcDateTime, d.State.CheckProblems, healthy);
}

/// <summary>What POST /api/v1/destinations/{name}/copy did.</summary>
public sealed record CopyReportDto(string Destination, IReadOnlyList<string> Copied, long BytesSent, long BytesReused,
    IReadOnlyList<string> Removed, string? Error);

public sealed record ListMeta(int Count, int MaxBackups, long TotalSize);

public sealed record DataEnvelope<T>(T Data);

public sealed record ListEnvelope(IReadOnlyList<BackupDto> Data, ListMeta Meta);

/// <summary>A background job: kind is create, restore, copy, fetch-restore, drill or point-in-time-restore; status is
/// queued, running, succeeded or failed; progress is 0–100 when known.</summary>
public sealed record JobDto(Guid Id, string Kind, string Status, double? Progress, string? Phase, string? Filename,
    string? Error, string? SafetyBackup, DateTime CreatedAt, DateTime? FinishedAt, string? Warning)
{
    /// <summary>Only for a point-in-time restore.</summary>
    public PointInTimeJobDto? PointInTime { get; init; }

    /// <summary>Why a failed job failed, as the error kinds of problem details name it (e.g. "interrupted": the app
    /// server running it stopped); null otherwise.</summary>
    public string? ErrorKind { get; init; }

    public static JobDto From(BackupJob job) => new(
        job.Id,
        System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(job.Kind.ToString()),
        job.Status.ToString().ToLowerInvariant(),
        job.Status == BackupJobStatus.Succeeded ? 100 : job.Progress?.Fraction is { } f ? Math.Round(f * 100, 1) : null,
        job.Progress?.Phase,
        job.Filename,
        job.Error,
        job.SafetyBackup,
        job.CreatedAt.UtcDateTime,
        job.FinishedAt?.UtcDateTime,
        job.Warning)
    {
        PointInTime = PointInTimeJobDto.From(job.PointInTime),
        ErrorKind = job.ErrorKind is { } kind ? System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(
            kind.ToString()) : null,
    };
}

/// <summary>Body of POST /api/v1/backups (optional); <c>priority</c> is "low" or "normal" (default:
/// Backup__ManualPriority).</summary>
public sealed record CreateBackupBody(bool? OnlyDb, bool? OnlyFiles, string? Priority = null);

/// <summary>Body of POST /api/v1/backups/restore: <c>filename</c> (a backup) or <c>to_time</c> (a point in time: ISO
/// 8601 with an offset, or "YYYY-MM-DD HH:MM:SS" in Backup__TimeZone); <c>allow_foreign</c> confirms restoring an
/// archive this installation did not make.</summary>
public sealed record RestoreBackupBody(string? Filename, bool? OnlyDb, bool? OnlyFiles, bool? AllowForeign = null,
    string? ToTime = null);

public sealed record HealthCheckDto(string Name, bool Healthy, string Detail);

public sealed record ScheduledRunDto(DateTime At, string Outcome, string? Filename, string? Detail, bool CatchUp);

public sealed record ScheduleDto(string Name, string Expression, string TimeZone, DateTime? NextRun,
    ScheduledRunDto? LastRun);

/// <summary>GET /api/v1/backups/health: the same checks as /health, with details and the schedules.</summary>
public sealed record HealthDto(bool Healthy, DateTime CheckedAt, IReadOnlyList<HealthCheckDto> Checks,
    IReadOnlyList<ScheduleDto> Schedules);

/// <summary>A restore drill as the API shows it; <c>restore_seconds</c> is the measured recovery time.</summary>
public sealed record DrillDto(string Filename, bool Passed, DateTime StartedAt, double RestoreSeconds,
    double TotalSeconds, long ArchiveBytes, int TablesChecked,
    long RowsChecked, int FilesChecked, int OperatorChecks, IReadOnlyList<string> Failures,
        IReadOnlyList<string> Warnings, string RequestedBy)
{
    public static DrillDto From(BackupManager.Core.Drills.DrillResult d)
        => new(d.Filename, d.Passed, d.StartedAt.UtcDateTime, Math.Round(d.RestoreDuration.TotalSeconds, 1),
        Math.Round(d.TotalDuration.TotalSeconds, 1), d.ArchiveBytes, d.TablesChecked, d.RowsChecked, d.FilesChecked,
            d.OperatorChecks, d.Failures, d.Warnings, d.RequestedBy);
}

/// <summary>One day and trigger of GET /api/v1/backups/history (the date is the clinic's local date).</summary>
public sealed record HistoryDayDto(string Date, string Trigger, int Count, long Bytes, long DatabaseBytes,
    long FilesBytes, double? AverageSeconds);

/// <summary>GET /api/v1/backups/history: backups per day and trigger, and the restore drills, over <c>days</c>
/// days.</summary>
public sealed record HistoryDto(string TimeZone, string From, string To, IReadOnlyList<HistoryDayDto> Days,
    IReadOnlyList<DrillDto> Drills)
{
    public static HistoryDto Of(BackupManager.Core.Drills.BackupHistoryReport r)
        => new(r.TimeZone, r.From.ToString("yyyy-MM-dd"), r.To.ToString("yyyy-MM-dd"),
        r.Days.Select(d => new HistoryDayDto(d.Date.ToString("yyyy-MM-dd"), d.Trigger.ToName(), d.Count, d.Bytes,
            d.DatabaseBytes, d.FilesBytes,
            d.AverageSeconds is { } s ? Math.Round(s, 1) : null)).ToList(),
        r.Drills.Select(DrillDto.From).ToList());
}
