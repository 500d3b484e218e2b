using BackupManager.Core.Audit;

namespace BackupManager.Core.Jobs;

public sealed partial class BackupJobRunner
{
    private const string PointInTimeAction = "restore-to-time";

    /// <summary>
    /// Starts a restore of the database (<see cref="BackupScope.Full"/>: and the files) to <paramref name="target"/>.
    /// Everything that can be known beforehand is checked before a job exists (on, scope, window, WAL gaps, base
    /// backup, files' backup) and a refusal is audited and thrown; the job then makes the point-in-time archive and
    /// restores it under the lease it took here.
    /// </summary>
    public async Task<BackupJob> StartPointInTimeRestoreAsync(DateTimeOffset target, BackupScope scope, Actor actor,
        CancellationToken cancellationToken = default)
    {
        var job = NewJob(BackupJobKind.PointInTimeRestore, scope, actor) with { PointInTime = new(target) };
        var shown = $"{target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";
        Pitr.PointInTimeRecovery recovery;
        try
        {
            recovery = pointInTime ?? throw new BackupException(BackupErrorKind.InvalidInput,
                "Point-in-time recovery is not set up in this process. Nothing was changed.");
            await recovery.CheckAsync(target, scope, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupException e)
        {
            audit.Record(actor.Name, actor.Address, PointInTimeAction, shown, AuditOutcome.Refused, e.Message);
            throw;
        }
        return Start(job, "restore", PointInTimeAction, actor, async (running, lease, progress, token) =>
        {
            var (archive, result) = await recovery.RestoreAsync(target, scope, actor.Name, progress, token, lease)
                .ConfigureAwait(false);
            return running with
            {
                Filename = result.Filename,
                SafetyBackup = result.SafetyBackup,
                Warning = result.Warnings.Count == 0 ? null : string.Join(" ", result.Warnings),
                PointInTime = new(target, archive.Filename, archive.BaseBackup, archive.FilesFrom),
            };
        });
    }
}
