using BackupManager.Core.Jobs;
using BackupManager.Core.Pitr;

namespace BackupManager.Web.Endpoints;

/// <summary>GET /api/v1/pitr (snake_case JSON, UTC times ending in Z): the window a restore can reach, the receiver
/// and its lag, the bytes its slot keeps on the server, the newest base backup, and why the server could not be
/// asked (<c>problem</c>).</summary>
public sealed record PitrDto(bool Enabled, DateTime? WindowFrom, DateTime? WindowTo, string SlotName,
    string Receiver, bool? Streaming, double? LagSeconds, long? SlotRetainedBytes, string? LastBaseBackup,
    DateTime? LastBaseBackupAt, string? Problem)
{
    public static PitrDto From(PitrStatus s) => new(s.Enabled, s.WindowFrom?.UtcDateTime, s.WindowTo?.UtcDateTime,
        s.SlotName, s.Receiver, s.Streaming, s.LagSeconds is { } lag ? Math.Round(lag, 1) : null,
        s.SlotRetainedBytes, s.LastBaseBackup, s.LastBaseBackupAt?.UtcDateTime, s.Problem);
}

/// <summary>A restore job's point in time: the target and, once made, the archive, the base backup it was recovered
/// from and the backup the files came from (absent: database only).</summary>
public sealed record PointInTimeJobDto(DateTime TargetTime, string? Archive, string? BaseBackup, string? FilesFrom)
{
    public static PointInTimeJobDto? From(PointInTimeJob? p) => p is null ? null
        : new(p.Target.UtcDateTime, p.Archive, p.BaseBackup, p.FilesFrom);
}
