using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Offsite;
using BackupManager.Web.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Copies new backups off-site in the background. A backup this process commits wakes it at once
/// (<see cref="BackupCommitted"/>); otherwise it looks (locally, cheaply) every
/// <see cref="ScheduleOptions.OffsitePoll"/> for backups a destination still lacks, which finds those another process
/// made. A failing destination is retried
/// with backoff (1, 2, 4 … 60 minutes). Every 6 hours it lists each destination again (catching up whatever a restart
/// or an outage missed, and applying its retention), and once a day it checks each one
/// (<see cref="OffsiteService.CheckAsync"/>). In a cluster only the instance leading
/// <see cref="ClusterRole.OffsiteCopy"/> copies.
/// </summary>
public sealed class OffsiteCopyWorker(OffsiteService offsite, BackupCommitted committed,
    IOptions<ScheduleOptions> options, TimeProvider time, ILogger<OffsiteCopyWorker> logger,
    ClusterLeadership leadership) : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromHours(6);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromDays(1);

    /// <summary>How long to wait after <paramref name="failures"/> failures in a row.</summary>
    public static TimeSpan Backoff(int failures) => failures <= 0 ? TimeSpan.Zero
        : TimeSpan.FromMinutes(Math.Min(60, Math.Pow(2, Math.Min(failures - 1, 6))));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (offsite.DestinationNames.Count == 0) return;
        await Task.Yield();
        await leadership.WhileLeaderAsync(ClusterRole.OffsiteCopy, CopyAsync, stoppingToken);
    }

    private async Task CopyAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await RoundAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e,
                "The off-site copier failed; it tries again shortly"); }
            await committed.WaitAsync(options.Value.OffsitePoll, time, stoppingToken);
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var d in offsite.GetStatus())
        {
            var state = d.State;
            if (state.LastAttemptAt is { } attempted && now - attempted < Backoff(state.ConsecutiveFailures)) continue;
            var stale = state.LastSuccessAt is not { } success || now - success > Refresh;
            if (d.Pending.Count > 0 || stale)
            {
                var report = (await offsite.CopyPendingAsync(destination: d.Name, cancellationToken: cancellationToken))
                    .Single();
                if (!report.Succeeded) logger.LogWarning(
                    "Off-site copy to {Destination} failed; next try in {Backoff}", d.Name,
                    Backoff(offsite.GetStatus().Single(s => s.Name == d.Name).State.ConsecutiveFailures));
                continue;
            }
            if (state.LastCheckAt is not { } checkedAt || now - checkedAt > CheckEvery)
                await offsite.CheckAsync(d.Name, cancellationToken: cancellationToken);
        }
    }
}
