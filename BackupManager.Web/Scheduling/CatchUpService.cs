using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Jobs;
using BackupManager.Core.Pitr;
using BackupManager.Web.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Shortly after start, runs one catch-up backup for each schedule whose last slot passed while the app was down
/// (decided from the backups that exist, see <see cref="CatchUpPlanner"/>), and with point-in-time recovery on a base
/// backup when there is none yet or its last slot was missed. In a cluster only the instance leading
/// <see cref="ClusterRole.CatchUp"/> catches up, and again whenever it takes that role over (its predecessor died, and
/// slots may have passed with no instance running them); the plan comes from the backups that exist, so a repeat finds
/// nothing to do.
/// </summary>
public sealed class CatchUpService(IServiceScopeFactory scopes, BackupScheduleCatalog schedules, IBackupService backups,
    ScheduleHistory history, IOptions<ScheduleOptions> options, TimeProvider time, ILogger<CatchUpService> logger,
    PitrSource pitr, ClusterLeadership leadership) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        // Recorded at the first start, before the delay: slots that passed before it were never missed.
        await KeptSinceAsync(stoppingToken);
        await leadership.WhileLeaderAsync(ClusterRole.CatchUp, async led =>
        {
            await Task.Delay(options.Value.CatchUpDelay, time, led);
            await RunMissedAsync(led);
            // Done for this term; in a cluster, hold the role so a successor catches up only if this instance goes.
            if (leadership.Enabled) await Task.Delay(Timeout.InfiniteTimeSpan, time, led);
        }, stoppingToken);
    }

    public async Task<IReadOnlyList<ScheduledRun>> RunMissedAsync(CancellationToken cancellationToken)
    {
        var runs = new List<ScheduledRun>();
        foreach (var schedule in schedules.All.OrderByDescending(s => s.Trigger == BackupTrigger.Weekly))
        {
            var existing = await backups.ListAsync(cancellationToken);
            var since = await KeptSinceAsync(cancellationToken);
            if (CatchUpPlanner.MissedSlot(schedule, existing, time.GetUtcNow(), since) is not { } slot) continue;
            logger.LogWarning("The {Schedule} backup due at {Slot} did not run (the app was down); running it now",
                schedule.Name, slot);
            await using var scope = scopes.CreateAsyncScope();
            runs.Add(await scope.ServiceProvider.GetRequiredService<ScheduledBackupService>()
                .RunAsync(schedule.Name, catchUp: true, cancellationToken));
        }
        if (await MissedBaseBackupAsync(cancellationToken) is { } due)
        {
            logger.LogWarning("The base backup due at {Slot} did not run (none yet, or the app was down); running it "
                + "now", due);
            await using var scope = scopes.CreateAsyncScope();
            runs.Add(await scope.ServiceProvider.GetRequiredService<ScheduledBaseBackupService>()
                .RunAsync(cancellationToken));
        }
        return runs;
    }

    /// <summary>The base backup slot to catch up: any slot while there is no base backup at all (the window is empty
    /// until one exists), else the last slot when no base backup began at or after it.</summary>
    private async Task<DateTimeOffset?> MissedBaseBackupAsync(CancellationToken cancellationToken)
    {
        if (schedules.BaseBackup is not { } schedule) return null;
        var now = time.GetUtcNow();
        var newest = BaseBackupRecord.List(pitr.Layout.Base).Select(b => (DateTimeOffset?)b.StartedAt).Max();
        if (newest is null) return schedule.PreviousRun(now) ?? now;
        if (schedule.PreviousRun(now) is not { } slot || slot < await KeptSinceAsync(cancellationToken)) return null;
        return newest >= slot ? null : slot;
    }

    private async Task<DateTimeOffset> KeptSinceAsync(CancellationToken cancellationToken)
    {
        var oldest = (await backups.ListAsync(cancellationToken)).Select(b => (DateTimeOffset?)b.CreatedAt).Min();
        return history.KeptSince(time.GetUtcNow(), oldest);
    }
}
