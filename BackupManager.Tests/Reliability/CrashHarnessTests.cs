using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;
using Xunit.Abstractions;
using static BackupManager.Tests.Infrastructure.ArchiveForger;

namespace BackupManager.Tests.Reliability;

/// <summary>
/// The crash and corruption harness: kill -9 at random moments of creates and restores, and dozens of damaged archives.
/// The random seed is printed so a failure can be replayed (BACKUPMANAGER_HARNESS_SEED).
/// </summary>
public sealed class CrashHarnessTests(ITestOutputHelper output)
{
    private readonly Random _random = CreateRandom(output);

    private static Random CreateRandom(ITestOutputHelper output)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKUPMANAGER_HARNESS_SEED"), out var fixedSeed)
            ? fixedSeed : Environment.TickCount;
        output.WriteLine($"harness seed: {seed}");
        return new Random(seed);
    }

    private static async Task<TimeSpan> RunToEndAsync(Dictionary<string, string> env, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        var result = await AppProcess.RunAsync(env, "", args);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return watch.Elapsed;
    }

    /// <summary>
    /// Starts the command and SIGKILLs only its main process after <paramref name="delay"/> (children see a closed
    /// pipe, as after a crash). Returns whether the kill landed, and how long the command ran.
    /// </summary>
    private static async Task<(bool Killed, TimeSpan Ran)> KillAfterAsync(Dictionary<string, string> env,
        TimeSpan delay, params string[] args)
    {
        var (killed, ran, _) = await KillAfterAsync(env, delay, () => false, args);
        return (killed, ran);
    }

    /// <summary>As above; <paramref name="probe"/> is evaluated just before the kill and its answer returned.</summary>
    private static async Task<(bool Killed, TimeSpan Ran, bool Probe)> KillAfterAsync(Dictionary<string, string> env,
        TimeSpan delay, Func<bool> probe, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var process = AppProcess.Start(env, args);
        process.StandardInput.Close();
        var exited = process.WaitForExit(delay);
        var probed = false;
        if (!exited)
        {
            probed = probe();
            process.Kill(entireProcessTree: false);
        }
        await process.WaitForExitAsync();
        return (!exited, watch.Elapsed, probed);
    }

    [Fact]
    public async Task A_create_killed_at_20_random_moments_never_leaves_a_listed_incomplete_backup()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 50);
        await h.SeedAsync();
        for (var i = 0; i < 15; i++) TestFolder.WriteFile(Path.Combine(h.Xrays, "bulk", $"scan-{i}.dcm"),
            TestFolder.RandomBytes(4_000_000));
        var env = AppProcess.EnvironmentFor(h);
        env["MAX_BACKUPS"] = "50";
        var full = await RunToEndAsync(env, "app:create-backup");
        output.WriteLine($"an uninterrupted create takes {full.TotalMilliseconds:0} ms");

        // Twenty kills must land inside a create. A create that finishes before its kill (later runs are faster than
        // the first, cold one) narrows the range the moments are drawn from, so the count does not depend on speed.
        int killed = 0, attempts = 0, afterDumpStarted = 0;
        var upper = full.TotalMilliseconds;
        // The dump starts first thing in a create, before the temporary archive (.backup-*.tmp-*) and its spill files
        // are made, and those stay until the archive is renamed; after that the create is reading its backup back.
        var before = Directory.GetFiles(h.BackupDirectory, "backup-*.zip").Length;
        bool DumpStarted() => Directory.GetFiles(h.BackupDirectory, ".backup-*").Length > 0
            || Directory.GetFiles(h.BackupDirectory, "backup-*.zip").Length > before;
        while (killed < 20)
        {
            Assert.True(++attempts <= 60, $"only {killed} of {attempts - 1} kills landed during a create");
            var (landed, ran, dumping) = await KillAfterAsync(env,
                TimeSpan.FromMilliseconds(_random.Next(0, (int)upper)), DumpStarted, "app:create-backup");
            if (landed) killed++;
            else upper = Math.Min(upper, ran.TotalMilliseconds * 0.9);
            if (dumping) afterDumpStarted++;
            before = Directory.GetFiles(h.BackupDirectory, "backup-*.zip").Length;
            foreach (var backup in await h.Engine.ListAsync())
                await h.Engine.VerifyAsync(backup.Filename); // throws if anything listed is incomplete
        }
        output.WriteLine(
            $"20 creates killed at random moments ({attempts - 20} more finished before their kill), " +
            $"{afterDumpStarted} after the dump had started");
        Assert.True(afterDumpStarted >= 1, "no kill landed after the dump started");

        var next = await AppProcess.RunAsync(env, null, "app:list-backups", "--json");
        Assert.Equal(0, next.ExitCode);
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, ".backup-*"));
        foreach (var backup in await h.Engine.ListAsync()) await h.Engine.VerifyAsync(backup.Filename);
    }

    private static Task<ClinicState> CaptureAsync(EngineHarness h) => ClinicState.CaptureAsync(h);

    /// <summary>The pre-restore safety backups in the folder: a new one means a restore got past its commit point.
    /// </summary>
    private static async Task<HashSet<string>> SafetyBackupsAsync(EngineHarness h) => (await h.Engine.ListAsync())
        .Where(b => b.Trigger == BackupTrigger.PreRestore).Select(b => b.Filename).ToHashSet();

    /// <summary>The first lines that differ, so a failure says which table or file is of the wrong state.</summary>
    private static string Differences(ClinicState expected, ClinicState actual) => string.Join("; ",
        (expected.Database + "\n" + expected.Files).Split('\n')
        .Except((actual.Database + "\n" + actual.Files).Split('\n')).Take(3));

    [Fact]
    public async Task A_killed_restore_leaves_every_table_and_file_old_before_the_commit_point_and_new_after()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 50);
        await h.SeedAsync();
        await h.Database.ExecuteAsync("CREATE SCHEMA billing; CREATE TABLE billing.invoices (id serial PRIMARY KEY, "
            + "amount numeric(10,2)); INSERT INTO billing.invoices (amount) SELECT g * 2.5 "
            + "FROM generate_series(1, 300) g;");
        var stateA = await CaptureAsync(h);
        var backupA = (await h.CreateBackupAsync()).Filename;
        // B differs from A in every table of both schemas, in a changed, an added and a removed file and folder.
        await h.Database.ExecuteAsync(
            "UPDATE patients SET name = name || ' (B)', balance = balance + 1; DELETE FROM appointments WHERE " +
            "patient_id > 450; DELETE FROM patients WHERE id > 450; UPDATE billing.invoices SET amount = 0 " +
            "WHERE id = 7; INSERT INTO billing.invoices (amount) VALUES (1);");
        File.WriteAllText(Path.Combine(h.Documents, "consent", "patient-1.txt"), "state B");
        TestFolder.WriteFile(Path.Combine(h.Xrays, "2026", "patient-3.jpg"), TestFolder.RandomBytes(300_000));
        TestFolder.WriteFile(Path.Combine(h.Documents, "2027", "letter.txt"), "state B"u8.ToArray());
        File.Delete(Path.Combine(h.Documents, "invoice-1.pdf"));
        var stateB = await CaptureAsync(h);
        var backupB = (await h.CreateBackupAsync()).Filename;
        var env = AppProcess.EnvironmentFor(h);
        env["MAX_BACKUPS"] = "50";
        var full = await RunToEndAsync(env, "app:restore-backup", backupA, "--force");
        Assert.Equal(stateA, await CaptureAsync(h));
        output.WriteLine($"an uninterrupted restore takes {full.TotalMilliseconds:0} ms");

        var landed = new List<string>();
        int landedOld = 0, landedNew = 0, reported = 0;
        // Random moments first, then one kill aimed at each phase of the journal; the swap lasts milliseconds, so the
        // aimed kills hold the process there (BACKUPMANAGER_TEST_PAUSE_AT) long enough for the kill to land inside it.
        var aimed = new (string Pause, Func<RestoreJournal, Task<bool>> Ready)[]
        {
            ("", j => Task.FromResult(j.State == RestoreJournalState.Preparing)),
            ("committing:3000", j => Task.FromResult(j.State == RestoreJournalState.Committing)),
            ("database-swapped:3000", async j => j.State == RestoreJournalState.Committing
                && (await h.Database.DatabasesLikeAsync()).Contains(j.DatabaseOld!)),
            ("committed:3000", j => Task.FromResult(j.State == RestoreJournalState.Committed)),
        };
        for (var i = 0; i < 12 + aimed.Length; i++)
        {
            var before = await CaptureAsync(h);
            var safety = await SafetyBackupsAsync(h);
            var (target, targetState) = before == stateA ? (backupB, stateB) : (backupA, stateA);
            string phase;
            if (i < 12)
            {
                var delay = TimeSpan.FromMilliseconds(_random.Next(0, (int)(full.TotalMilliseconds * 1.1)));
                await KillAfterAsync(env, delay, "app:restore-backup", target, "--force");
                phase = RestoreJournal.Load(h.BackupDirectory)?.State.ToString() ?? "no journal";
            }
            else
            {
                var (pause, ready) = aimed[i - 12];
                var aimedEnv = new Dictionary<string, string>(env) { ["BACKUPMANAGER_TEST_PAUSE_AT"] = pause };
                phase = await KillWhenAsync(aimedEnv, h, ready, "app:restore-backup", target, "--force");
                if (pause.StartsWith("database-swapped",
                    StringComparison.Ordinal)) phase += " (database swapped, folders not)";
            }
            landed.Add(phase);
            // The commit point is the journal's "committing": from there the next start completes the restore.
            // Without a journal the restore either had not begun or had ended, after writing its safety backup.
            var passed = RestoreJournal.Load(h.BackupDirectory)?.State is { } state
                ? state != RestoreJournalState.Preparing
                : (await SafetyBackupsAsync(h)).Except(safety).Any();

            var next = await AppProcess.RunAsync(env, null, "app:list-backups", "--json");
            Assert.True(next.ExitCode == 0, next.Stderr);
            if (next.Stderr.Contains("restore of")) reported++;

            var after = await CaptureAsync(h);
            var expected = passed ? targetState : before;
            Assert.True(after == expected, $"kill {i} ({phase}): expected every table and file "
                + $"{(passed ? "new, the commit point was passed" : "old, the commit point was not reached")}; "
                + $"differs: {Differences(expected, after)}");
            if (passed) landedNew++;
            else landedOld++;
            Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
            Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
                .Select(Path.GetFileName).Order());
            Assert.False(File.Exists(Path.Combine(h.BackupDirectory, ".restore-journal.json")));
        }
        output.WriteLine(
            $"{landed.Count} killed restores, in: {string.Join(", ", landed)}; {landedOld} left the old state, " +
            $"{landedNew} the new one; {reported} interrupted restores were reported at the next start");
        foreach (var state in new[] { RestoreJournalState.Preparing, RestoreJournalState.Committing,
            RestoreJournalState.Committed })
            Assert.Contains(landed, l => l.StartsWith(state.ToString(), StringComparison.Ordinal));
        Assert.Contains(landed, l => l.Contains("database swapped, folders not"));
    }

    /// <summary>Starts the command, polls its restore journal until <paramref name="ready"/>, then SIGKILLs it; returns
    /// the phase it was killed in.</summary>
    private static async Task<string> KillWhenAsync(Dictionary<string, string> env, EngineHarness h,
        Func<RestoreJournal, Task<bool>> ready, params string[] args)
    {
        using var process = AppProcess.Start(env, args);
        process.StandardInput.Close();
        var waited = Stopwatch.StartNew();
        while (!process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            RestoreJournal? journal = null;
            try { journal = RestoreJournal.Load(h.BackupDirectory); } catch (
                BackupException) { /* being replaced: read it again */ }
            if (journal is not null && await ready(journal)) break;
            await Task.Delay(5);
        }
        if (process.HasExited) Assert.Fail("the restore ended before the phase the kill aimed at: "
            + await process.StandardError.ReadToEndAsync());
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
        return RestoreJournal.Load(h.BackupDirectory)?.State.ToString() ?? "no journal";
    }

    [Fact]
    public async Task Fifty_damaged_variants_of_a_real_archive_are_all_refused_and_nothing_changes()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 100);
        await h.SeedAsync();
        var original = h.PathOf((await h.CreateBackupAsync()).Filename);
        var bytes = await File.ReadAllBytesAsync(original);
        var manifest = ReadManifest(original);
        var entries = ReadEntries(original);
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'live' WHERE id = 1");
        var live = await CaptureAsync(h);
        var count = (await h.Engine.ListAsync()).Count;

        var variants = new List<(string Kind, Action<string> Make)>();
        for (var i = 0; i < 30; i++)
        {
            var offset = _random.NextInt64(0, bytes.Length);
            var bit = (byte)(1 << _random.Next(8));
            variants.Add(($"bit flip at {offset}", path =>
                { var copy = (byte[])bytes.Clone(); copy[offset] ^= bit; File.WriteAllBytes(path, copy); }));
        }
        for (var i = 0; i < 10; i++)
        {
            var length = _random.Next(0, bytes.Length);
            variants.Add(($"truncated to {length}", path => File.WriteAllBytes(path, bytes[..length])));
        }
        variants.Add(("manifest: other user", path =>
            Write(path, manifest, entries, m => { m["requested_by"] = "mallory"; return m; })));
        variants.Add(("manifest: swapped hash", path =>
            Write(path, manifest, entries, m => { m["entries"]![0]!["sha256"] = new string('0', 64); return m; })));
        variants.Add(("manifest: entry removed", path =>
            Write(path, manifest, entries, m => { m["entries"]!.AsArray().RemoveAt(1); return m; })));
        for (var i = 0; i < 3; i++)
        {
            var duplicate = entries[i % entries.Count];
            variants.Add(($"duplicated {duplicate.Name}", path => Write(path, manifest, [.. entries, duplicate])));
        }
        foreach (var evil in new[] { "files/xrays/../../../escaped.txt", "/etc/cron.d/escaped",
            "files/documents/..\\..\\escaped.txt", "db/../escaped.dump" })
            variants.Add(($"entry {evil}", path =>
                Write(path, manifest, [.. entries, new ForgedEntry(evil, "pwned"u8.ToArray())])));
        Assert.Equal(50, variants.Count);

        for (var i = 0; i < variants.Count; i++)
        {
            var name = $"backup-2030-01-01-00-00-{i:D2}.zip";
            variants[i].Make(h.PathOf(name));
            var verify = await Assert.ThrowsAsync<BackupException>(() => h.Engine.VerifyAsync(name));
            Assert.True(verify.Kind == BackupErrorKind.Damaged, $"{variants[i].Kind}: {verify.Kind} {verify.Message}");
            var restore = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(name));
            Assert.True(restore.Kind == BackupErrorKind.Damaged, $"{variants[i].Kind}: {restore.Message}");
            Assert.Equal(live, await CaptureAsync(h));
            Assert.Equal(count + i + 1, (await h.Engine.ListAsync()).Count); // no safety backup was made
        }
        Assert.False(File.Exists("/etc/cron.d/escaped"));
        Assert.Empty(Directory.GetFiles(h.Folder.Path, "escaped*", SearchOption.AllDirectories));
    }
}
