using System.Text.Json.Nodes;
using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Drills;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Restore drills: a real restore of a backup into scratch copies, checked and timed, then removed; never anything
/// live, never a role created; a crash leaves nothing after the next start.
/// </summary>
public sealed class RestoreDrillTests
{
    private static IEnumerable<string> Scratch(EngineHarness h) =>
        Directory.EnumerateDirectories(Path.GetDirectoryName(h.Xrays)!)
            .Where(d => Path.GetFileName(d).Contains(".bm-"));

    [Fact]
    public async Task A_drill_of_a_good_backup_passes_checks_every_table_and_file_and_leaves_nothing_behind()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
            o.DrillChecks = ["SELECT count(*) > 0 FROM patients",
            "SELECT current_setting('transaction_read_only') = 'on'"], asOwnerRole: true);
        // several schemas, a second role with grants, large objects, files
        var reader = await DeployedClinic.SeedAsync(h);
        var backup = await h.CreateBackupAsync();
        var live = await DeployedClinic.CaptureAsync(h, reader);
        var liveFiles = TestFolder.Snapshot(Path.GetDirectoryName(h.Xrays)!);

        var result = await h.Engine.DrillAsync(new DrillRequest(null, "test@clinic"));

        Assert.True(result.Passed, string.Join(" ", result.Failures));
        Assert.Equal(backup.Filename, result.Filename);
        var tables = await h.Database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
        Assert.Equal(tables, result.TablesChecked);
        Assert.Equal(await AllRowsAsync(h), result.RowsChecked);
        Assert.Equal(Directory.GetFiles(Path.GetDirectoryName(h.Xrays)!, "*", SearchOption.AllDirectories).Length,
            result.FilesChecked);
        Assert.Equal(2, result.OperatorChecks);
        Assert.True(result.RestoreDuration > TimeSpan.Zero && result.RestoreDuration <= result.TotalDuration);
        // Nothing left, nothing live changed.
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Empty(Scratch(h));
        Assert.False(File.Exists(Path.Combine(h.BackupDirectory, Core.Restore.RestoreJournal.FileName)));
        NpgsqlConnection.ClearAllPools();
        Assert.Equal(live.ToString(), (await DeployedClinic.CaptureAsync(h, reader)).ToString());
        Assert.Equal(liveFiles, TestFolder.Snapshot(Path.GetDirectoryName(h.Xrays)!));
        Assert.Single(await h.Engine.ListAsync()); // a drill makes no safety backup
        var recorded = Assert.Single(new DrillHistory(h.BackupDirectory).All());
        Assert.True(recorded.Passed);
        Assert.Equal(result.RestoreDuration, recorded.RestoreDuration);
    }

    /// <summary>Rewrites the backup's manifest with <paramref name="edit"/>, re-sealed and re-signed by this
    /// installation: a backup this installation could have written, whose recorded facts differ.</summary>
    private static void RewriteManifest(EngineHarness h, string filename, Action<JsonObject> edit)
    {
        var path = h.PathOf(filename);
        var manifest = ArchiveForger.ReadManifest(path);
        edit(manifest);
        ArchiveForger.Write(path, manifest, ArchiveForger.ReadEntries(path));
        var summary = ArchiveSummary.ReadFromFile(path)!;
        ArchiveSummary.RewriteInFile(path, summary with { Signature = h.Get<ArchiveSigner>().Sign(summary) });
    }

    [Fact]
    public async Task A_table_whose_restored_rows_differ_from_the_recorded_count_fails_the_drill_naming_both()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        RewriteManifest(h, backup.Filename, m => m["database"]!["row_counts"]!["public.patients"] = 499);

        var result = await h.Engine.DrillAsync(new DrillRequest(backup.Filename, "test@clinic"));

        Assert.False(result.Passed);
        Assert.Equal("The table public.patients has 500 rows after the restore; the backup recorded 499.",
            Assert.Single(result.Failures));
        Assert.Equal(2, result.TablesChecked);
        Assert.Empty(Scratch(h));
    }

    [Fact]
    public async Task A_backup_without_recorded_row_counts_fails_the_drill_saying_the_rows_could_not_be_compared()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        // As a version from before row counts were recorded wrote it.
        RewriteManifest(h, backup.Filename, m => m["database"]!.AsObject().Remove("row_counts"));

        var result = await h.Engine.DrillAsync(new DrillRequest(backup.Filename, "test@clinic"));

        Assert.False(result.Passed);
        Assert.Contains("recorded no row counts", Assert.Single(result.Failures));
        Assert.Contains("the tables' rows could not be compared", result.Failures[0]);
        Assert.Equal(0, result.TablesChecked);
    }

    [Fact]
    public async Task A_restored_file_that_differs_from_its_recorded_hash_fails_the_drill_naming_the_file()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        var tampered = 0;
        // The restored copy changes after it was extracted, as a failing disk would change it.
        var progress = new SynchronousProgress<BackupProgress>(p =>
        {
            if (p.Phase != "Checking the restored copies") return;
            foreach (var copy in Scratch(h).Select(d => Path.Combine(d, "2026", "patient-2.png")).Where(File.Exists))
            {
                File.WriteAllBytes(copy, TestFolder.RandomBytes(150_000));
                tampered++;
            }
        });

        var result = await h.Engine.DrillAsync(new DrillRequest(backup.Filename, "test@clinic"), progress);

        Assert.Equal(1, tampered);
        Assert.False(result.Passed);
        Assert.Equal("files/xrays/2026/patient-2.png differs after the restore (its SHA-256 is not the one recorded).",
            Assert.Single(result.Failures));
        Assert.Equal(5, result.FilesChecked);
    }

    private const string OneTableAsXml =
        "query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', schemaname, tablename), false, true, '')";

    private static async Task<long> AllRowsAsync(EngineHarness h) =>
        await h.Database.ScalarAsync<long>($"""
            SELECT coalesce(sum((xpath('/row/c/text()', {OneTableAsXml}))[1]::text::bigint), 0)::bigint
            FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            """);

    [Fact]
    public async Task A_failing_operator_check_fails_the_drill_and_is_named()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
            o.DrillChecks = ["SELECT count(*) > 0 FROM patients", "SELECT count(*) > 1000000 FROM appointments"]);
        await h.SeedAsync();
        await h.CreateBackupAsync();

        var result = await h.Engine.DrillAsync(new DrillRequest(null, "test@clinic"));

        Assert.False(result.Passed);
        var failure = Assert.Single(result.Failures);
        Assert.Contains(
            "Backup__DrillChecks__1 (SELECT count(*) > 1000000 FROM appointments) returned False instead of true",
            failure);
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Empty(Scratch(h));
    }

    [Fact]
    public async Task A_backup_that_needs_a_role_this_server_lacks_fails_the_drill_with_its_name_and_creates_nothing()
    {
        await using var old = await EngineHarness.CreateAsync(asOwnerRole: true);
        var reader = await DeployedClinic.SeedAsync(old);
        var backup = await old.CreateBackupAsync();
        // The new server: the owner role exists, the reader role does not; BackupManager connects as the superuser,
        // which could create it — a drill must not.
        var empty = await TestPostgres.CreateDatabaseAsync(
            adminConnectionString: TestPostgres.DisasterRecoveryConnectionString, name: old.Database.Name,
            ownerRole: old.Database.OwnerRole);
        await using var dr = await EngineHarness.CreateAsync(database: empty,
            connectionString: TestPostgres.With(TestPostgres.DisasterRecoveryConnectionString, empty.Name),
            configure: o => o.RestoreConnection = empty.ConnectionString);
        File.Copy(old.PathOf(backup.Filename), dr.PathOf(backup.Filename));
        File.Copy(Path.Combine(old.BackupDirectory, ArchiveSigner.KeyFileName),
            Path.Combine(dr.BackupDirectory, ArchiveSigner.KeyFileName), overwrite: true);

        var result = await dr.Engine.DrillAsync(new DrillRequest(backup.Filename, "test@clinic"));

        Assert.False(result.Passed);
        Assert.Contains($"lacks the role(s) {reader}", Assert.Single(result.Failures));
        Assert.Contains("never creates roles", result.Failures[0]);
        await using (var admin = new NpgsqlConnection(TestPostgres.DisasterRecoveryConnectionString))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_roles WHERE rolname = @r", admin);
            command.Parameters.AddWithValue("r", reader);
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }
        Assert.Equal([empty.Name], await empty.DatabasesLikeAsync());
    }

    [Fact]
    public async Task A_drill_killed_while_checking_leaves_nothing_after_the_next_start()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        await h.CreateBackupAsync();
        var env = AppProcess.EnvironmentFor(h);
        using var pause = PausePoint.In(env, Core.Restore.FaultInjection.DrillChecking, 60000);
        using (var process = AppProcess.Start(env, "app:restore-drill"))
        {
            await pause.ReachedAsync(process, TimeSpan.FromSeconds(90));
            Assert.Contains(await h.Database.DatabasesLikeAsync(), d => d.Contains("__bm_drill_"));
            Assert.NotEmpty(Scratch(h));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        PausePoint.Clear(env);

        var next = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.Equal(0, next.ExitCode);
        Assert.Contains("restore drill", next.Stderr);
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Empty(Scratch(h));
    }

    [Fact]
    public async Task Row_counts_recorded_at_backup_time_are_the_tables_counts_however_the_dump_is_split_into_writes()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        await h.Database.ExecuteAsync(
            "CREATE TABLE notes (id int, body text); INSERT INTO notes VALUES (1, E'two\\nlines'), (2, " +
            "E'tab\\there'), (3, NULL); CREATE TABLE empty_one (id int);");
        var backup = await h.CreateBackupAsync();
        var (exit, _) = StockReaders.Run("unzip", "-o", "-q", h.PathOf(backup.Filename), "db/*", "-d", h.Folder.Path);
        Assert.Equal(0, exit);
        var dump = File.ReadAllBytes(Directory.GetFiles(Path.Combine(h.Folder.Path, "db"), "*.dump").Single());

        foreach (var step in new[] { 1, 7, 4096, 1 << 20 })
        {
            var counter = new Core.Database.DumpRowCounter(Stream.Null);
            for (var offset = 0; offset < dump.Length; offset += step) counter.Write(
                dump.AsSpan(offset, Math.Min(step, dump.Length - offset)));
            var counts = counter.Counts!;
            Assert.Equal(500, counts["public.patients"]);
            Assert.Equal(2000, counts["public.appointments"]);
            Assert.Equal(3, counts["public.notes"]);
            Assert.Equal(0, counts["public.empty_one"]);
        }
        using var archive = BackupArchiveReader.Open(h.PathOf(backup.Filename));
        Assert.Equal(3, archive.Manifest.Database!.RowCounts!["public.notes"]);
    }

    [Fact]
    public void Something_that_is_not_a_custom_format_dump_turns_counting_off_without_failing_the_write()
    {
        var sink = new MemoryStream();
        var counter = new Core.Database.DumpRowCounter(sink);
        counter.Write("-- plain SQL, not a custom-format archive\n"u8);
        Assert.Null(counter.Counts);
        Assert.Equal(42, sink.Length); // every byte passed through
    }

    [Fact]
    public async Task Over_a_superuser_connection_checks_run_as_the_owner_and_the_default_drill_skips_a_foreign_upload()
    {
        var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await using var h = await EngineHarness.CreateAsync(database: database,
            connectionString: TestPostgres.With(TestPostgres.AdminConnectionString, database.Name),
            configure: o =>
            {
                o.DrillChecks = ["SELECT NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"];
                o.RestoreConnection = database.ConnectionString;
            });
        await h.SeedAsync();
        var own = await h.CreateBackupAsync();
        // A newer archive made by another installation, uploaded: not the one a drill picks.
        await using var other = await EngineHarness.CreateAsync(withDatabase: false);
        TestFolder.WriteFile(Path.Combine(other.Xrays, "a.txt"), "x"u8.ToArray());
        await WallClock.NextSecondAsync();
        var foreign = await other.CreateBackupAsync(BackupScope.FilesOnly);
        await using (var upload = File.OpenRead(other.PathOf(foreign.Filename))) await h.Engine.ImportAsync(upload,
            long.MaxValue, "test@clinic");
        Assert.True((await h.Engine.ListAsync()).First().Foreign);

        var result = await h.Engine.DrillAsync(new DrillRequest(null, "test@clinic"));

        Assert.Equal(own.Filename, result.Filename);
        Assert.True(result.Passed, string.Join(" ", result.Failures));
        Assert.Equal(1, result.OperatorChecks);
    }
}
