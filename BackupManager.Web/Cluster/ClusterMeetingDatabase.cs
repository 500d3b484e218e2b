using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>
/// In a cluster the operation lock lives in the accounts database, and every console command takes that lock to
/// recover first: on a new installation the accounts database must be made before (the web app: StartupRecovery).
/// </summary>
public static class ClusterMeetingDatabase
{
    /// <summary>With Backup__Cluster__Enabled, makes and migrates the accounts database; nothing otherwise.</summary>
    public static async Task PrepareAsync(IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (!scope.ServiceProvider.GetRequiredService<IOptions<ClusterOptions>>().Value.Enabled) return;
        await scope.ServiceProvider.GetRequiredService<Identity.UserAccountService>().MigrateAsync(cancellationToken);
    }
}
