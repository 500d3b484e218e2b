using BackupManager.Core.Cluster;
using BackupManager.Web.Cluster;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Health;

/// <summary>Re-checks health every few minutes so a silent stop of the schedules is noticed and notified. In a cluster
/// only the instance leading <see cref="ClusterRole.HealthNotifications"/> checks (one notification, not one per
/// instance; the last state sent is in the shared backup folder).</summary>
public sealed class HealthMonitor(BackupHealthService health, IOptions<ScheduleOptions> schedule,
    ILogger<HealthMonitor> logger, ClusterLeadership leadership) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!schedule.Value.Enabled) return;
        await leadership.WhileLeaderAsync(ClusterRole.HealthNotifications, MonitorAsync, stoppingToken);
    }

    private async Task MonitorAsync(CancellationToken stoppingToken)
    {
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
