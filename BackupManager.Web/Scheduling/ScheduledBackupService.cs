using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Web.Health;
using BackupManager.Web.Notifications;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// One scheduled (or catch-up) backup: waits for a running operation up to the schedule window, runs a full backup
/// marked daily or weekly, records the outcome, notifies on failure or skip, and re-checks health.
/// </summary>
public sealed class ScheduledBackupService(BackupJobRunner jobs, BackupScheduleCatalog schedules,
    ScheduleHistory history,
    Notifier notifier, BackupHealthService health, IOptions<ScheduleOptions> options, TimeProvider time,
        ILogger<ScheduledBackupService> logger,
    IOptions<BackupOptions> engineOptions)
{
    public async Task<ScheduledRun> RunAsync(string scheduleName, bool catchUp, CancellationToken cancellationToken)
    {
        var schedule = schedules.Get(scheduleName);
        var actor = new Actor($"scheduler:{schedule.Name}", "scheduler");
        ScheduledRun run;
        try
        {
            var job = await jobs.RunCreateAsync(BackupScope.Full, schedule.Trigger, actor, options.Value.Window,
                cancellationToken, engineOptions.Value.ScheduledPriorityLevel);
            run = job.Status == BackupJobStatus.Succeeded
                ? new ScheduledRun(schedule.Name, time.GetUtcNow(), ScheduledRunOutcome.Succeeded, job.Filename, null,
                    catchUp)
                : new ScheduledRun(schedule.Name, time.GetUtcNow(), ScheduledRunOutcome.Failed, null, job.Error,
                    catchUp);
        }
        catch (BackupException e) when (e.Kind == BackupErrorKind.Busy)
        {
            run = new ScheduledRun(schedule.Name, time.GetUtcNow(), ScheduledRunOutcome.Skipped, null,
                $"another backup operation was still running after the {options.Value.Window} window "
                    + $"(Backup__ScheduleWindow): {e.Message}", catchUp);
        }
        history.Record(run);
        if (run.Outcome == ScheduledRunOutcome.Succeeded)
            logger.LogInformation("Scheduled {Schedule} backup {Filename} succeeded{CatchUp}", run.Schedule,
                run.Filename, catchUp ? " (catch-up)" : "");
        else
        {
            logger.LogError("Scheduled {Schedule} backup {Outcome}: {Detail}", run.Schedule, run.Outcome, run.Detail);
            await notifier.NotifyAsync(new Notification(Notification.BackupFailed,
                $"The {run.Schedule} backup {(run.Outcome == ScheduledRunOutcome.Skipped ? "was skipped" : "failed")}",
                $"The {run.Schedule} backup at {run.At:yyyy-MM-dd HH:mm} UTC "
                    + $"{(run.Outcome == ScheduledRunOutcome.Skipped ? "was skipped" : "failed")}: {run.Detail}",
                    run.At), cancellationToken);
        }
        await health.CheckAndNotifyAsync(cancellationToken);
        return run;
    }
}
