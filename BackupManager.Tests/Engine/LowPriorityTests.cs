using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Core.IO;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Low-priority creates: the settings parse and reach the pipeline (pg_dump and our compression threads niced and in
/// the idle I/O class, reading throttled), and the archive verifies and restores exactly like a normal one. How much
/// the clinic's database keeps, and what it costs, is measured by the bench, not here.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LowPriorityTests
{
    /// <summary>The nice value (field 19 of /proc/…/stat) of a process.</summary>
    private static int NiceOf(string statPath) => ThreadNices.NiceOfStat(File.ReadAllText(statPath));

    /// <summary>
    /// The pg_dump of this test's own create: a child (or deeper descendant) of this test process dumping
    /// <paramref name="database"/>. Other tests and other processes on the machine run pg_dump at the same time.
    /// </summary>
    internal static int OwnPgDump(string database) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Select(n => int.Parse(n!)).FirstOrDefault(pid => Read($"/proc/{pid}/comm")?.Trim() == "pg_dump"
                && DescendsFromThisProcess(pid) && Read($"/proc/{pid}/cmdline") is { } arguments
                && arguments.Split('\0').SkipWhile(a => a != "--dbname").Skip(1).FirstOrDefault() == database);

    private static bool DescendsFromThisProcess(int pid)
    {
        for (var depth = 0; pid > 1 && depth < 20; depth++)
        {
            var status = Read($"/proc/{pid}/status");
            var line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            if (line is null) return false;
            pid = int.Parse(line[5..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (pid == Environment.ProcessId) return true;
        }
        return false;
    }

    /// <summary>How many bytes the process has written so far (wchar of /proc/…/io): the dump it has handed
    /// on.</summary>
    internal static long? BytesWritten(int pid) => Read($"/proc/{pid}/io")?.Split('\n')
        .Where(l => l.StartsWith("wchar:", StringComparison.Ordinal))
        .Select(l => (long?)long.Parse(l[6..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
        .FirstOrDefault();

    private static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    [Fact]
    public async Task A_low_create_nices_pg_dump_and_compression_threads_in_idle_io_class_and_reads_at_throttled_rate()
    {
        // The fixed rate: a quiet test server would otherwise let the create read at full speed.
        await using var h = await EngineHarness.CreateAsync(o =>
            (o.LowPriorityBytesPerSecond, o.LowPriorityFollowsLoad) = (1 << 20, false));
        await h.SeedAsync();
        // A 128 MB dump: at 1 MiB/s the create runs for minutes (it is cancelled once measured); unthrottled, pg_dump
        // would still be running during the rate measurement, and the measurement would show it.
        await h.Database.ExecuteAsync(
            "CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 20) AS body "
            + "FROM generate_series(1, 200000) g");
        using var stop = new CancellationTokenSource();
        var earlierWorkers = ThreadNices.Named("Deflate worker").Keys.ToHashSet();
        var create = h.Engine.CreateAsync(
            new CreateBackupRequest(BackupScope.DatabaseOnly, BackupTrigger.Manual, "test@clinic", BackupPriority.Low),
            null, stop.Token);

        var dump = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); dump == 0 && DateTime.UtcNow < deadline;
            await Task.Delay(20)) dump = OwnPgDump(h.Database.Name);
        Assert.NotEqual(0, dump);
        await Task.Delay(300);
        Assert.True(File.Exists($"/proc/{dump}/stat"),
            $"pg_dump exited; create completed: {create.IsCompleted} {create.Exception?.InnerException?.Message}");
        Assert.Equal(19, NiceOf($"/proc/{dump}/stat"));
        Assert.Equal(3, LowPriority.IoClassOf(dump)); // idle
        // The rate pg_dump hands the dump on at, over 3 s: about the 1 MiB/s budget (its 1 MiB stdout buffer and the
        // pipe make it step), where unthrottled it writes tens of MB a second.
        var (before, started) = (BytesWritten(dump), Stopwatch.GetTimestamp());
        await Task.Delay(3000);
        var (after, elapsed) = (BytesWritten(dump), Stopwatch.GetElapsedTime(started));
        Assert.True(before is not null && after is not null, "pg_dump exited while its rate was measured");
        var rate = (after - before) / elapsed.TotalSeconds;
        Assert.True(rate is > 0 and < 2 << 20,
            $"pg_dump wrote {after - before:N0} bytes in {elapsed.TotalSeconds:F1} s");
        // The compression threads start with the first full chunk (2 MiB: two seconds at this rate).
        List<int> deflate = [];
        for (var i = 0; i < 100 && (deflate.Count == 0 || deflate.Any(n => n != 19)); i++, await Task.Delay(100))
            deflate = ThreadNices.Named("Deflate worker").Where(w => !earlierWorkers.Contains(w.Key))
                .Select(w => w.Value).ToList();
        Assert.NotEmpty(deflate);
        Assert.All(deflate, nice => Assert.Equal(19, nice));
        // Throttled: after a second it cannot have read much more than 1 MiB/s allows.
        Assert.False(create.IsCompleted);
        await stop.CancelAsync();
        var cancelled = await Assert.ThrowsAsync<BackupException>(() => create);
        Assert.Equal(BackupErrorKind.Cancelled, cancelled.Kind);
        Assert.Empty(await h.Engine.ListAsync());
        // The test process's own threads are not lowered: only the create's.
        Assert.Equal(0, LowPriority.CurrentThreadNice());
    }

    [Fact]
    public async Task A_normal_create_leaves_pg_dump_at_normal_priority()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.Database.ExecuteAsync(
            "CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 20) AS body " +
            "FROM generate_series(1, 200000) g");
        var create = h.Engine.CreateAsync(
            new CreateBackupRequest(BackupScope.DatabaseOnly, BackupTrigger.Manual, "test@clinic",
            BackupPriority.Normal));
        int? nice = null;
        while (!create.IsCompleted && nice is null)
        {
            var dump = OwnPgDump(h.Database.Name);
            if (dump != 0) try { nice = NiceOf($"/proc/{dump}/stat"); } catch (IOException) { }
            await Task.Delay(2);
        }
        await create;
        Assert.NotNull(nice); // the 128 MB dump runs long enough to be seen
        Assert.Equal(0, nice);
    }

    [Fact]
    public async Task A_low_create_gives_an_archive_that_verifies_and_restores_exactly_like_a_normal_one()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        var reader = await DeployedClinic.SeedAsync(h);
        var backedUp = await DeployedClinic.CaptureAsync(h, reader);
        var normal = await h.Engine.CreateAsync(
            new CreateBackupRequest(BackupScope.Full, BackupTrigger.Manual, "test@clinic", BackupPriority.Normal));
        await WallClock.NextSecondAsync();
        var low = await h.Engine.CreateAsync(
            new CreateBackupRequest(BackupScope.Full, BackupTrigger.Manual, "test@clinic", BackupPriority.Low));

        var lowReport = await h.Engine.VerifyAsync(low.Filename);
        var normalReport = await h.Engine.VerifyAsync(normal.Filename);
        Assert.Equal(normalReport.Entries, lowReport.Entries);
        // Every file entry has the same content; the dumps differ only by pg_dump's timestamp, so compare what they
        // restore.
        Assert.Equal(h.EntriesOf(normal.Filename).Where(e => e.Path.StartsWith("files/"))
            .Select(e => (e.Path, e.Sha256)),
            h.EntriesOf(low.Filename).Where(e => e.Path.StartsWith("files/")).Select(e => (e.Path, e.Sha256)));
        Assert.Equal(normalReport.Manifest.Database!.RowCounts, lowReport.Manifest.Database!.RowCounts);

        await h.Database.ExecuteAsync("UPDATE public.patients SET name = 'changed' WHERE id = 1");
        await h.RestoreAsync(low.Filename);
        NpgsqlConnection.ClearAllPools();
        // As the owner role, a per-role setting in the database comes back only over a superuser connection (a warning
        // says so).
        static string WithoutPerRoleSettings(string state) =>
            string.Join('\n', state.Split('\n').Where(l => !l.StartsWith("setting ", StringComparison.Ordinal)));
        Assert.Equal(WithoutPerRoleSettings(backedUp.ToString()),
            WithoutPerRoleSettings((await DeployedClinic.CaptureAsync(h, reader)).ToString()));
    }

    [Fact]
    public async Task The_priority_settings_parse_and_a_bad_value_stops_the_start_naming_it()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var env = AppProcess.EnvironmentFor(h);
        env["Backup__ManualPriority"] = "slow";
        var bad = await AppProcess.RunAsync(env, null, "app:list-backups");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'slow'", bad.Stderr);
        Assert.Contains("ManualPriority", bad.Stderr);

        env["Backup__ManualPriority"] = "normal";
        env["Backup__ScheduledPriority"] = "LOW";
        var create = await AppProcess.RunAsync(env, null, "app:create-backup", "--only-files", "--priority", "fastest");
        Assert.Equal(2, create.ExitCode);
        Assert.Contains("--priority must be low", create.Stderr);
        var ok = await AppProcess.RunAsync(env, null, "app:create-backup", "--only-files", "--priority", "low");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
    }
}
