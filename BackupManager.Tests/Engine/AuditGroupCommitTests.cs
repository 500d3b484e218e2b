using System.Text.Json;
using BackupManager.Core.Audit;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>The audit log's group commit: concurrent records share one write and one fsync, none returns before its
/// line is on disk, and every line lands whole, in each caller's order.</summary>
public sealed class AuditGroupCommitTests
{
    [Fact]
    public async Task Many_concurrent_records_all_land_as_whole_lines_in_each_callers_order()
    {
        using var folder = new TestFolder();
        var log = new AuditLog(folder.Path, TimeProvider.System);
        const int callers = 16, each = 100;

        // Each caller records one line and waits for it, then queues four without waiting (as reads do), and so on.
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < each; i += 5)
            {
                log.Record($"caller{c}", null, "api", i.ToString(), AuditOutcome.Succeeded);
                await Task.WhenAll(Enumerable.Range(i + 1, 4).Select(n =>
                    log.RecordAsync($"caller{c}", null, "api", n.ToString(), AuditOutcome.Succeeded)).ToList());
            }
        })));

        var lines = File.ReadAllLines(Path.Combine(folder.Path, AuditLog.FileName));
        Assert.Equal(callers * each, lines.Length);
        var entries = lines.Select(l => JsonSerializer.Deserialize<AuditEntry>(l,
            BackupManager.Core.BackupJson.Options)!).ToList();
        foreach (var caller in entries.GroupBy(e => e.Actor))
            Assert.Equal(Enumerable.Range(0, each).Select(i => i.ToString()), caller.Select(e => e.Target));
    }

    [Fact]
    public async Task Records_queued_during_an_fsync_share_the_next_one_and_none_returns_before_its_own()
    {
        using var folder = new TestFolder();
        var entered = new SemaphoreSlim(0);
        var release = new SemaphoreSlim(0);
        var linesAtSync = new List<int>();
        var path = Path.Combine(folder.Path, AuditLog.FileName);
        var log = new AuditLog(folder.Path, TimeProvider.System, sync: stream =>
        {
            stream.Flush(flushToDisk: true);
            lock (linesAtSync) linesAtSync.Add(File.ReadAllLines(path).Length);
            entered.Release();
            release.Wait(); // the test decides when this fsync ends
        });

        var first = log.RecordAsync("first", null, "api", null, AuditOutcome.Succeeded);
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(10)));
        var queued = Enumerable.Range(0, 50)
            .Select(i => log.RecordAsync($"queued{i}", null, "api", null, AuditOutcome.Succeeded)).ToList();
        Assert.False(first.IsCompleted); // its fsync has not returned yet

        release.Release();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(10)));
        await Task.Delay(100);
        Assert.DoesNotContain(queued, t => t.IsCompleted); // written, but their fsync is still running
        release.Release();
        await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([1, 51], linesAtSync); // two fsyncs for 51 records: the 50 queued ones shared one
        Assert.Equal(Enumerable.Range(0, 50).Reverse().Select(i => $"queued{i}").Append("first"),
            log.Read(take: 100).Select(e => e.Actor));
    }

    [Fact]
    public async Task A_batch_larger_than_a_file_rotates_inside_it_so_no_file_grows_past_its_limit()
    {
        using var folder = new TestFolder();
        var hold = new ManualResetEventSlim();
        var log = new AuditLog(folder.Path, TimeProvider.System, maxFileBytes: 2_000, keepFiles: 3, sync: stream =>
        {
            stream.Flush(flushToDisk: true);
            hold.Wait(TimeSpan.FromSeconds(10));
        });

        var first = log.RecordAsync("user0", null, "create", null, AuditOutcome.Succeeded);
        var batch = Enumerable.Range(1, 59)
            .Select(i => log.RecordAsync($"user{i}", null, "create", null, AuditOutcome.Succeeded)).ToList();
        hold.Set();
        await Task.WhenAll(batch.Append(first)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(Directory.GetFiles(folder.Path), f => Assert.InRange(new FileInfo(f).Length, 1, 2_000));
        Assert.Equal(Enumerable.Range(40, 20).Reverse().Select(i => $"user{i}"),
            log.Read(take: 20).Select(e => e.Actor));
    }
}
