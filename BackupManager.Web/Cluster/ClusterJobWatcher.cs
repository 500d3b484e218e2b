using BackupManager.Core.Jobs;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Several servers: every second, reads the other instances' running jobs (and how the ones seen running ended) from
/// the cluster's job table and hands them to <see cref="BackupJobRunner.Observe"/>, so the pages' banner on this
/// instance shows a job another one runs, and its end.
/// </summary>
internal sealed class ClusterJobWatcher(BackupJobRunner jobs, IJobStateShare share, ILogger<ClusterJobWatcher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PollAsync(jobs, share, stoppingToken);
                failing = false;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (!failing) logger.LogWarning(e, "Other instances' jobs could not be read from the cluster database; "
                    + "retrying every second");
                failing = true;
            }
        }
    }

    /// <summary>One look at the table.</summary>
    public static async Task PollAsync(BackupJobRunner jobs, IJobStateShare share, CancellationToken cancellationToken)
    {
        foreach (var job in await share.OthersAsync(jobs.WatchedElsewhere, cancellationToken)) jobs.Observe(job);
    }
}
