using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>Health turns bad when the WAL receiver stops and when the slot holds more WAL on the server than
/// allowed; it is good while the receiver streams and a base backup exists.</summary>
public sealed class PitrHealthTests
{
    [Fact]
    public async Task Health_is_good_while_streaming_and_turns_bad_when_the_receiver_stops_and_the_slot_fills()
    {
        // The default limit while streaming: other tests' writes on the shared server can make any slot trail by MBs.
        await using var pitr = await PitrScenario.StartAsync();
        var reader = pitr.Harness.Get<PitrStatusReader>();
        var before = (await reader.HealthChecksAsync(CancellationToken.None)).ToDictionary(c => c.Name);
        Assert.False(before[PitrHealth.BaseBackupCheck].Healthy);
        Assert.Contains("Run app:base-backup", before[PitrHealth.BaseBackupCheck].Detail);

        await pitr.BaseBackupAsync();
        var streaming = await reader.HealthChecksAsync(CancellationToken.None);
        Assert.Equal(4, streaming.Count);
        // Other tests' slots may be stale for a moment on the shared server: the fourth check is the next test's.
        Assert.All(streaming.Where(c => c.Name != PitrHealth.StaleSlotsCheck),
            c => Assert.True(c.Healthy, $"{c.Name}: {c.Detail}"));

        await pitr.StopReceiverAsync();
        pitr.Harness.Options.Pitr.MaxSlotRetainedBytes = 16L << 20; // the engine reads its options at each check
        for (var i = 0; i < 2; i++)
        {
            await pitr.Harness.Database.ExecuteAsAdminAsync(
                "CREATE TABLE IF NOT EXISTS wal_filler (n int); INSERT INTO wal_filler VALUES (1);");
            await TestPostgres.ExecuteAsync(pitr.Harness.Database.AdminConnectionString, "postgres",
                "SELECT pg_switch_wal()");
        }
        var stopped = (await reader.HealthChecksAsync(CancellationToken.None)).ToDictionary(c => c.Name);
        Assert.False(stopped[PitrHealth.ReceiverCheck].Healthy);
        Assert.Contains($"No WAL receiver is streaming from slot {pitr.Layout.SlotName}",
            stopped[PitrHealth.ReceiverCheck].Detail);
        Assert.False(stopped[PitrHealth.SlotCheck].Healthy, stopped[PitrHealth.SlotCheck].Detail);
        Assert.Contains("max_slot_wal_keep_size", stopped[PitrHealth.SlotCheck].Detail);
        Assert.True(stopped[PitrHealth.BaseBackupCheck].Healthy);
    }

    [Fact]
    public async Task A_slot_left_by_a_moved_backup_folder_turns_health_bad_naming_it_until_it_is_dropped()
    {
        await using var pitr = await PitrScenario.StartAsync(o => o.MaxSlotRetainedBytes = 16L << 20);
        var reader = pitr.Harness.Get<PitrStatusReader>();
        var admin = pitr.Harness.Database.AdminConnectionString;
        var moved = "backupmanager_moved" + Guid.NewGuid().ToString("N")[..8];
        await TestPostgres.ExecuteAsync(admin, "postgres",
            $"SELECT pg_create_physical_replication_slot('{moved}', true)");
        try
        {
            await pitr.SwitchSegmentsAsync(2);
            var checks = (await reader.HealthChecksAsync(CancellationToken.None)).ToDictionary(c => c.Name);
            var stale = checks[PitrHealth.StaleSlotsCheck];
            Assert.False(stale.Healthy);
            Assert.Contains(moved, stale.Detail);
            Assert.Contains("pg_drop_replication_slot", stale.Detail);
        }
        finally
        {
            await TestPostgres.ExecuteAsync(admin, "postgres", $"SELECT pg_drop_replication_slot('{moved}')");
        }
        var after = (await reader.HealthChecksAsync(CancellationToken.None)).ToDictionary(c => c.Name);
        Assert.DoesNotContain(moved, after[PitrHealth.StaleSlotsCheck].Detail);
    }

    [Fact]
    public void Nothing_is_checked_while_point_in_time_recovery_is_off()
    {
        var status = new PitrStatus(false, null, null, "slot", "unknown", null, null, null, null, null, null);
        Assert.Empty(PitrHealth.Checks(status, new PitrOptions()));
    }
}
