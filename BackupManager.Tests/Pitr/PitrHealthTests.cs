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
        await using var pitr = await PitrScenario.StartAsync(o => o.MaxSlotRetainedBytes = 16L << 20);
        var reader = pitr.Harness.Get<PitrStatusReader>();
        var before = (await reader.HealthChecksAsync(CancellationToken.None)).ToDictionary(c => c.Name);
        Assert.False(before[PitrHealth.BaseBackupCheck].Healthy);
        Assert.Contains("Run app:base-backup", before[PitrHealth.BaseBackupCheck].Detail);

        await pitr.BaseBackupAsync();
        var streaming = await reader.HealthChecksAsync(CancellationToken.None);
        Assert.Equal(3, streaming.Count);
        Assert.All(streaming, c => Assert.True(c.Healthy, $"{c.Name}: {c.Detail}"));

        await pitr.StopReceiverAsync();
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
    public void Nothing_is_checked_while_point_in_time_recovery_is_off()
    {
        var status = new PitrStatus(false, null, null, "slot", "unknown", null, null, null, null, null, null);
        Assert.Empty(PitrHealth.Checks(status, new PitrOptions()));
    }
}
