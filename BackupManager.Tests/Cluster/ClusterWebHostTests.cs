using BackupManager.Core.Cluster;
using BackupManager.Core.Locking;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Cluster;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Cluster;

/// <summary>The web app with Backup__Cluster__Enabled=true meets in its accounts database: it leads the singleton
/// roles when alone, and its operation lock is the advisory lock there.</summary>
public sealed class ClusterWebHostTests
{
    [Fact]
    public async Task The_web_app_in_cluster_mode_leads_when_alone_and_locks_in_the_accounts_database()
    {
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:Cluster:Enabled"] = "true";
            s["Backup:Cluster:HeartbeatSeconds"] = "1";
            s["Backup:Cluster:InstanceName"] = "host-a";
        });
        var database = host.Harness.Database;
        // Not disposed here: the harness drops <name>_accounts with its own database.
        var accounts = new TestDatabase(database.Name + "_accounts", "", database.AdminConnectionString, null);
        var leadership = host.Factory.Services.GetRequiredService<ClusterLeadership>();
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => Enum.GetValues<ClusterRole>()
            .All(leadership.IsLeader), TimeSpan.FromSeconds(20)));
        Assert.Single(await ClusterTestDatabase.HoldersAsync(accounts,
            ClusterLockKeys.Leadership(ClusterRole.CatchUp)));

        var locking = host.Factory.Services.GetRequiredService<BackupOperationLock>();
        using (locking.Acquire("create", "web:alice"))
            Assert.Single(await ClusterTestDatabase.HoldersAsync(accounts, ClusterLockKeys.OperationLock));
        Assert.Empty(await ClusterTestDatabase.HoldersAsync(accounts, ClusterLockKeys.OperationLock));
    }
}
