using BackupManager.Core;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Pitr;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Sends point-in-time recovery's WAL and base backups off-site while Backup__Pitr__Enabled is true and a destination
/// is configured: looks every few seconds (locally) for completed segments and base backups a destination lacks,
/// sends the segment being written every Backup__Pitr__OffsitePartialSeconds while it changes
/// (<see cref="PitrOffsiteCopier"/>). A failing destination is retried with the backup copier's backoff.
/// </summary>
public sealed class PitrOffsiteWorker(PitrOffsiteCopier copier, OffsiteService offsite,
    IOptions<BackupOptions> options, TimeProvider time, ILogger<PitrOffsiteWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pitr = options.Value.Pitr;
        if (!pitr.Enabled || offsite.DestinationNames.Count == 0) return;
        await Task.Yield();
        var every = TimeSpan.FromSeconds(Math.Clamp(pitr.OffsitePartialSeconds / 2, 1, 10));
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var reports = await copier.CopyAsync(now: false, stoppingToken);
                failures = reports.All(r => r.Succeeded) ? 0 : failures + 1;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures++;
                logger.LogError(e, "The point-in-time off-site copier failed; it tries again shortly");
            }
            var wait = failures == 0 ? every : OffsiteCopyWorker.Backoff(failures);
            try { await Task.Delay(wait, time, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
