using BackupManager.Core;
using BackupManager.Core.Pitr;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>Runs the WAL receiver for the web app's lifetime when Backup__Pitr__Enabled is true; stopping the app
/// stops pg_receivewal (and a killed app takes it along, see <see cref="WalReceiver"/>).</summary>
public sealed class WalReceiverService(WalReceiver receiver, IOptions<BackupOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Pitr.Enabled ? receiver.RunAsync(stoppingToken) : Task.CompletedTask;
}
