using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Servers of a cluster, and the commands run beside them, all migrate the accounts database when they start: after a
/// power cut on a new installation they do it at the same moment, and every one of them must come up.
/// </summary>
public sealed class ConcurrentMigrationTests
{
    [Fact]
    public async Task Four_processes_migrating_a_new_accounts_database_at_once_all_succeed()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        var environment = ClusterAppProcess.ClusterEnvironment(h);

        var runs = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => AppProcess.RunAsync(environment, null, "app:list-tokens")));

        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.Stderr));
    }
}
