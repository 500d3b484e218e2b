using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Core.Pitr;
using BackupManager.Web.Health;
using BackupManager.Web.Notifications;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// One scheduled base backup of point-in-time recovery: waits for a running operation up to the schedule window (as
/// scheduled backups do), takes the base backup under the operation lock, records the outcome in the schedule history
/// (schedule "base", shown on the Backups page and in health), notifies on failure or skip, and re-checks health.
/// </summary>
public sealed class ScheduledBaseBackupService(BaseBackup baseBackup, BackupOperationLock operationLock,
    ScheduleHistory history, Notifier notifier, BackupHealthService health, IOptions<ScheduleOptions> options,
    TimeProvider time, ILogger<ScheduledBaseBackupService> logger)
{
    private const string Actor = "scheduler:base-backup";

    public async Task<ScheduledRun> RunAsync(CancellationToken cancellationToken)
    {
        var name = BackupScheduleCatalog.Base;
        ScheduledRun run;
        try
        {
            using var lease = await operationLock.WaitAsync("base-backup", Actor, options.Value.Window,
                cancellationToken);
            var record = await baseBackup.TakeAsync(cancellationToken, lease);
            run = new ScheduledRun(name, time.GetUtcNow(), ScheduledRunOutcome.Succeeded, record.Name, null, false);
        }
        catch (BackupException e) when (e.Kind == BackupErrorKind.Busy)
        {
            run = new ScheduledRun(name, time.GetUtcNow(), ScheduledRunOutcome.Skipped, null,
                $"another backup operation was still running after the {options.Value.Window} window "
                    + $"(Backup__ScheduleWindow): {e.Message}", false);
        }
        catch (BackupException e)
        {
            run = new ScheduledRun(name, time.GetUtcNow(), ScheduledRunOutcome.Failed, null, e.Message, false);
        }
        history.Record(run);
        if (run.Outcome == ScheduledRunOutcome.Succeeded)
            logger.LogInformation("Scheduled base backup {Name} succeeded", run.Filename);
        else
        {
            var what = run.Outcome == ScheduledRunOutcome.Skipped ? "was skipped" : "failed";
            logger.LogError("Scheduled base backup {Outcome}: {Detail}", run.Outcome, run.Detail);
            await notifier.NotifyAsync(new Notification(Notification.BackupFailed, $"The base backup {what}",
                $"The scheduled base backup (point-in-time recovery) at {run.At:yyyy-MM-dd HH:mm} UTC {what}: "
                    + $"{run.Detail} Until one succeeds, a restore replays all WAL since the last base backup and old "
                    + "WAL is kept; run app:base-backup when the cause is fixed.", run.At), cancellationToken);
        }
        await health.CheckAndNotifyAsync(cancellationToken);
        return run;
    }
}
