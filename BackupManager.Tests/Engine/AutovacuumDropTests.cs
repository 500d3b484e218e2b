using BackupManager.Core.Database;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// A restore's parked previous database, or a staging copy left behind, is dropped by the owner role (not a superuser)
/// even while one of the server's autovacuum workers is in it, as one is soon after a restore: DROP DATABASE WITH
/// (FORCE) alone refused (42501) and the parked copy stayed until the next start.
/// </summary>
public sealed class AutovacuumDropTests
{
    [Fact]
    public async Task A_database_an_autovacuum_worker_is_in_is_dropped_by_its_owner()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        var parked = h.Database.Name + "_parked_av";
        await h.Database.ExecuteAsync($"CREATE DATABASE \"{parked}\"");
        // Dead rows that autovacuum must visit, as slowly as it can: its worker stays in the database for minutes.
        await TestPostgres.ExecuteAsync(h.Database.ConnectionString, parked,
            "CREATE TABLE t AS SELECT g FROM generate_series(1, 300000) g; "
            + "ALTER TABLE t SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0, "
            + "autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1); DELETE FROM t;");
        // The server visits each database once per autovacuum_naptime (a minute here).
        await PitrScenario.WaitForAsync(async () => await AutovacuumWorkersInAsync(h, parked) > 0,
            "an autovacuum worker in the database", seconds: 150);

        await h.Get<IDatabaseRestorer>().DropIfExistsAsync(parked, CancellationToken.None);

        Assert.DoesNotContain(parked, await h.Database.DatabasesLikeAsync());
    }

    private static async Task<long> AutovacuumWorkersInAsync(EngineHarness h, string database) =>
        long.Parse((await h.Database.RowsAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
            + $"'autovacuum worker' AND datname = '{database}'", asAdmin: true)).Single(),
            System.Globalization.CultureInfo.InvariantCulture);
}
