using BackupManager.Core.Locking;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Cluster;

/// <summary>Console commands run in a host of their own and still take the cluster's lock: a create on this host is
/// refused while another host (its own backup folder, so no file lock is shared) restores.</summary>
public sealed class ClusterConsoleCommandTests
{
    [Fact]
    public async Task A_console_create_is_refused_busy_while_another_host_holds_the_cluster_lock()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await using var accounts = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await h.SeedAsync();
        using var elsewhere = new TestFolder();
        var env = AppProcess.EnvironmentFor(h);
        env["ConnectionStrings__Accounts"] = accounts.ConnectionString;
        env["Backup__Cluster__Enabled"] = "true";
        env["Backup__Cluster__InstanceName"] = "host-b";

        using (new BackupOperationLock(elsewhere.Sub("backups"), ClusterTestDatabase.Options(accounts, "host-a"))
            .Acquire("restore", "web:alice"))
        {
            var refused = await AppProcess.RunAsync(env, null, "app:create-backup");
            Assert.Equal(3, refused.ExitCode);
            Assert.Contains("Another backup operation is running", refused.Stderr);
        }
        Assert.Empty(await h.Engine.ListAsync());

        var created = await AppProcess.RunAsync(env, null, "app:create-backup");
        Assert.Equal(0, created.ExitCode);
        Assert.Single(await h.Engine.ListAsync());
    }
}
