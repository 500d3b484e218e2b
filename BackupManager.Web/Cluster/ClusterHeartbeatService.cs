using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Several servers: installs the cluster's job tables at start (before the app serves, so this instance's jobs have
/// somewhere to go), then records every <see cref="ClusterOptions.HeartbeatSeconds"/> that this instance is alive.
/// Other instances show this one's unfinished jobs as interrupted once its heartbeat is older than
/// <see cref="ClusterOptions.HandoverSeconds"/>.
/// </summary>
internal sealed class ClusterHeartbeatService(ClusterJobTable table, IOptions<ClusterOptions> options,
    ILogger<ClusterHeartbeatService> logger) : BackgroundService
{
    /// <summary>Finished jobs and silent instances older than this are forgotten.</summary>
    private static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await table.InstallAsync(cancellationToken);
        await table.HeartbeatAsync(cancellationToken);
        await table.PruneAsync(KeepFor, cancellationToken);
        logger.LogInformation("Cluster instance {Instance} shares its jobs in schema {Schema}", table.Instance,
            options.Value.Schema);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.HeartbeatSeconds)));
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await table.HeartbeatAsync(stoppingToken);
                if (failing) logger.LogInformation("The heartbeat reaches the cluster database again");
                failing = false;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Past HandoverSeconds of these, other instances report this one's running jobs as interrupted.
                if (!failing) logger.LogWarning(e, "This instance's heartbeat could not be written to the cluster "
                    + "database; it is retried every {Seconds} s", options.Value.HeartbeatSeconds);
                failing = true;
            }
        }
    }
}
