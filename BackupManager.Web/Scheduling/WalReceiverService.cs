using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Pitr;
using BackupManager.Web.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>Runs the WAL receiver for the web app's lifetime when Backup__Pitr__Enabled is true; stopping the app
/// stops pg_receivewal (and a killed app takes it along, see <see cref="WalReceiver"/>). In a cluster it runs only on
/// the instance leading <see cref="ClusterRole.WalReceiver"/> (a slot takes one receiver): losing leadership stops
/// this instance's pg_receivewal.</summary>
public sealed class WalReceiverService(WalReceiver receiver, IOptions<BackupOptions> options,
    ClusterLeadership leadership) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => options.Value.Pitr.Enabled
        ? leadership.WhileLeaderAsync(ClusterRole.WalReceiver, receiver.RunAsync, stoppingToken)
        : Task.CompletedTask;
}
