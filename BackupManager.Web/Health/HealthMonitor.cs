using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Health;

/// <summary>Re-checks health every few minutes so a silent stop of the schedules is noticed and notified.</summary>
public sealed class HealthMonitor(BackupHealthService health, IOptions<ScheduleOptions> schedule,
    ILogger<HealthMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!schedule.Value.Enabled) return;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try { await health.CheckAndNotifyAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e,
                "The backup health check failed"); }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
