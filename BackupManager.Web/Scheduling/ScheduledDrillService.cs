using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Web.Health;
using BackupManager.Web.Notifications;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// The scheduled restore drill: waits for a running operation up to the schedule window (as scheduled backups do),
/// drills the newest backup, notifies when it failed or could not run, and re-checks health.
/// </summary>
public sealed class ScheduledDrillService(Core.Jobs.BackupJobRunner jobs, Notifier notifier, BackupHealthService health,
    IOptions<ScheduleOptions> options, Core.Storage.IBackupStore store, TimeProvider time,
        ILogger<ScheduledDrillService> logger)
{
    public async Task<DrillResult> RunAsync(CancellationToken cancellationToken)
    {
        const string actor = "scheduler:drill";
        DrillResult result;
        try
        {
            // A job like a drill started from the page: its progress shows there while it runs.
            var job = await jobs.RunDrillAsync(new Core.Jobs.Actor(actor, null), options.Value.Window,
                cancellationToken);
            result = job.Drill ?? CouldNotRun($"The scheduled drill could not run: {job.Error}");
        }
        catch (BackupException e) when (e.Kind is BackupErrorKind.Busy)
        {
            result = CouldNotRun($"The scheduled drill could not run: another backup operation was still running "
                + $"after the {options.Value.Window} window (Backup__ScheduleWindow). Run app:restore-drill when it "
                + $"has finished.");
        }
        if (!result.Passed)
        {
            logger.LogError("The scheduled restore drill failed: {Failures}", string.Join(" ", result.Failures));
            await notifier.NotifyAsync(new Notification(Notification.DrillFailed, "The restore drill failed",
                $"The restore drill of {result.Filename} at {result.StartedAt:yyyy-MM-dd HH:mm} UTC failed: "
                    + $"{string.Join(" ", result.Failures)}", result.StartedAt), cancellationToken);
        }
        await health.CheckAndNotifyAsync(cancellationToken);
        return result;
    }

    /// <summary>Not a drill that failed, but a week without proof: recorded as failed, so health and the history show
    /// it.</summary>
    private DrillResult CouldNotRun(string why)
    {
        var result = new DrillResult { Filename = "-", StartedAt = time.GetUtcNow(), RequestedBy = "scheduler:drill",
            Failures = [why] };
        new DrillHistory(store.Directory).Add(result);
        return result;
    }
}
