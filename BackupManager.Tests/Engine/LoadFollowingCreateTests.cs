using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// A low-priority create with the load-following throttle (the default): at the busy rate while another session runs
/// transactions, at full speed once it stops or when there is none, and the archive reads with stock tools.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LoadFollowingCreateTests
{
    [Fact]
    public async Task A_low_create_reads_at_full_speed_while_the_server_is_quiet_and_slowly_while_others_work()
    {
        var log = new CapturedLog("BackupManager.Core.BackupService");
        await using var h = await EngineHarness.CreateAsync(o => (o.LowPriorityBytesPerSecond,
            o.LowPriorityBusyTransactionsPerSecond) = (1 << 20, LoadFollowingThrottleTests.BusyAbove),
            replaceServices: log.AddTo);
        await h.SeedAsync();
        // A 128 MB dump: over two minutes at the busy rate of 1 MiB/s, seconds at full speed.
        await h.Database.ExecuteAsync(
            "CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 20) AS body "
            + "FROM generate_series(1, 200000) g");
        var low = new CreateBackupRequest(BackupScope.Full, BackupTrigger.Manual, "test@clinic", BackupPriority.Low);

        var quiet = await h.Engine.CreateAsync(low).WaitAsync(TimeSpan.FromSeconds(60));
        StockReaders.AssertReadable(h.PathOf(quiet.Filename));
        Assert.Contains(log.Messages, m => m.Contains(quiet.Filename) && m.Contains("Quiet at the end"));

        await WallClock.NextSecondAsync();
        var load = await LoadFollowingThrottleTests.Load.StartAsync(h.Database.ConnectionString, clients: 2);
        var create = h.Engine.CreateAsync(low);
        var dump = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); dump == 0 && DateTime.UtcNow < deadline;
            await Task.Delay(20)) dump = LowPriorityTests.OwnPgDump(h.Database.Name);
        Assert.NotEqual(0, dump);
        await Task.Delay(500);
        // While the load runs pg_dump hands the dump on at about the busy rate (its 1 MiB stdout buffer and the pipe
        // make it step), where at full speed it writes tens of MB a second.
        var (before, started) = (LowPriorityTests.BytesWritten(dump), Stopwatch.GetTimestamp());
        await Task.Delay(3000);
        var (after, elapsed) = (LowPriorityTests.BytesWritten(dump), Stopwatch.GetElapsedTime(started));
        Assert.True(before is not null && after is not null, "pg_dump exited while its rate was measured");
        var rate = (after - before) / elapsed.TotalSeconds;
        Assert.True(rate < 3 << 20, $"pg_dump wrote {after - before:N0} bytes in {elapsed.TotalSeconds:F1} s");
        Assert.False(create.IsCompleted);

        // The load ends: the rest (over 100 MB) goes at full speed, well before the busy rate could finish it.
        await load.StopAsync();
        var loaded = await create.WaitAsync(TimeSpan.FromSeconds(60));
        StockReaders.AssertReadable(h.PathOf(loaded.Filename));
        Assert.Equal(2, (await h.Engine.ListAsync()).Count);
    }
}
