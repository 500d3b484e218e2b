using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Offsite;
using BackupManager.Web.Cluster;
using BackupManager.Core.Offsite.Pitr;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Sends point-in-time recovery's WAL and base backups off-site while Backup__Pitr__Enabled is true and a destination
/// is configured: looks every few seconds (locally) for completed segments and base backups a destination lacks,
/// sends the segment being written every Backup__Pitr__OffsitePartialSeconds while it changes
/// (<see cref="PitrOffsiteCopier"/>). A failing destination is retried with the backup copier's backoff, on its own:
/// the others keep their pace. In a cluster only the instance leading <see cref="ClusterRole.PitrOffsite"/> sends.
/// </summary>
public sealed class PitrOffsiteWorker(PitrOffsiteCopier copier, OffsiteService offsite,
    IOptions<BackupOptions> options, TimeProvider time, ILogger<PitrOffsiteWorker> logger,
    ClusterLeadership leadership) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pitr = options.Value.Pitr;
        if (!pitr.Enabled || offsite.DestinationNames.Count == 0) return;
        await Task.Yield();
        await leadership.WhileLeaderAsync(ClusterRole.PitrOffsite, SendAsync, stoppingToken);
    }

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        var pitr = options.Value.Pitr;
        var every = TimeSpan.FromSeconds(Math.Clamp(pitr.OffsitePartialSeconds / 2, 1, 10));
        var failures = new Dictionary<string, (int Count, DateTimeOffset RetryAt)>(StringComparer.OrdinalIgnoreCase);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var name in offsite.DestinationNames)
            {
                if (failures.TryGetValue(name, out var failed) && time.GetUtcNow() < failed.RetryAt) continue;
                bool succeeded;
                try { succeeded = (await copier.CopyAsync(name, now: false, stoppingToken)).Succeeded; }
                catch (OperationCanceledException) { return; }
                catch (Exception e)
                {
                    succeeded = false;
                    logger.LogError(e, "The point-in-time off-site copier failed for {Destination}; it tries again "
                        + "later", name);
                }
                if (succeeded) failures.Remove(name);
                else
                {
                    var count = failed.Count + 1;
                    failures[name] = (count, time.GetUtcNow() + OffsiteCopyWorker.Backoff(count));
                }
            }
            try { await Task.Delay(every, time, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
