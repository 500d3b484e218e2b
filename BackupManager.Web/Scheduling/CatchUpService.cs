using BackupManager.Core;
using BackupManager.Core.Jobs;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Shortly after start, runs one catch-up backup for each schedule whose last slot passed while the app was down
/// (decided from the backups that exist, see <see cref="CatchUpPlanner"/>).
/// </summary>
public sealed class CatchUpService(IServiceScopeFactory scopes, BackupScheduleCatalog schedules, IBackupService backups,
    ScheduleHistory history, IOptions<ScheduleOptions> options, TimeProvider time, ILogger<CatchUpService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        // Recorded at the first start, before the delay: slots that passed before it were never missed.
        await KeptSinceAsync(stoppingToken);
        await Task.Delay(options.Value.CatchUpDelay, time, stoppingToken);
        await RunMissedAsync(stoppingToken);
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
        return runs;
    }

    private async Task<DateTimeOffset> KeptSinceAsync(CancellationToken cancellationToken)
    {
        var oldest = (await backups.ListAsync(cancellationToken)).Select(b => (DateTimeOffset?)b.CreatedAt).Min();
        return history.KeptSince(time.GetUtcNow(), oldest);
    }
}
