using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Drills;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>The drill with point-in-time recovery on a real set-up: each dump records its snapshot's WAL position, the
/// drill recovers a temporary server to just before it and compares every table's rows with the backup's counts;
/// app:restore-drill --to-time runs the drill's checks on a server recovered to any time.</summary>
public sealed class SnapshotDrillTests
{
    [Fact]
    public async Task The_drill_recovers_to_the_dumps_snapshot_and_the_counts_match_though_rows_came_after_it()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        var backup = await h.CreateBackupAsync();
        // Written after the snapshot: a recovery past it (to the end of the WAL, say) would count them.
        await h.Database.ExecuteAsync("INSERT INTO patients (name) VALUES ('after the dump'); DELETE FROM appointments "
            + "WHERE id <= 10");
        await pitr.SwitchSegmentsAsync(1);
        using (var archive = BackupArchiveReader.Open(h.PathOf(backup.Filename)))
            Assert.Matches("^[0-9A-F]+/[0-9A-F]+$", archive.Manifest.Database!.SnapshotLsn);

        var result = await h.Engine.DrillAsync(new DrillRequest(backup.Filename, "test@clinic"));

        Assert.True(result.Passed, string.Join(" ", result.Failures));
        Assert.Contains("all 2 tables have the rows the backup recorded", result.PointInTime);
        Assert.Equal(new DrillHistory(h.BackupDirectory).Last()!.PointInTime, result.PointInTime);
    }

    [Fact]
    public async Task A_count_that_differs_from_the_recovered_snapshot_fails_naming_the_table()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        var earlier = await PitrScenario.AdminScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        await h.Database.ExecuteAsync("DELETE FROM appointments WHERE id <= 10");
        var backup = await h.CreateBackupAsync();
        await pitr.SwitchSegmentsAsync(1);
        BackupManifest manifest;
        using (var archive = BackupArchiveReader.Open(h.PathOf(backup.Filename))) manifest = archive.Manifest;
        var drill = h.Get<PitrDrill>();

        // Recorded counts planted wrong: the recovered snapshot has 500 patients.
        var tampered = manifest with { Database = manifest.Database! with { RowCounts =
            new Dictionary<string, long>(manifest.Database.RowCounts!) { ["public.patients"] = 499 } } };
        var (summary, failures) = (await drill.CheckSnapshotAsync(tampered, CancellationToken.None))!.Value;
        var failure = Assert.Single(failures);
        Assert.Contains("the table public.patients has 500 rows; the backup recorded 499", failure);
        Assert.Contains("1 problem(s)", summary);

        // A snapshot position recorded before ten rows were deleted: the recovery really stops there.
        var early = manifest with { Database = manifest.Database with { SnapshotLsn = earlier } };
        failures = (await drill.CheckSnapshotAsync(early, CancellationToken.None))!.Value.Failures;
        Assert.True(failures.Count == 1, string.Join(" | ", failures));
        Assert.Contains("the table public.appointments has 2,000 rows; the backup recorded 1,990", failures[0]);
    }

    [Fact]
    public async Task Restore_drill_to_a_time_runs_the_checks_on_the_database_as_it_was_then()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await h.Database.ExecuteAsync("DELETE FROM appointments; DELETE FROM patients");
        // The engine logs in as a superuser (restores as the owner): the checks must still run as the owner.
        var env = AppProcess.EnvironmentFor(h, TestPostgres.With(h.Database.AdminConnectionString, h.Database.Name));
        env["Backup__RestoreConnection"] = h.Database.ConnectionString;
        env["Backup__DrillChecks__0"] = "SELECT count(*) = 2000 FROM appointments";
        env["Backup__DrillChecks__1"] = "SELECT NOT rolsuper FROM pg_roles WHERE rolname = current_user";
        var at = target.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);

        var run = await AppProcess.RunAsync(env, null, "app:restore-drill", "--to-time", at, "--json");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("\"passed\":true", run.Stdout.Replace(" ", ""));
        Assert.Contains("\"rows_checked\":2500", run.Stdout.Replace(" ", ""));
        Assert.Contains("Recovered to", run.Stdout);
        var now = await AppProcess.RunAsync(env, null, "app:restore-drill", "--to-time",
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz",
                System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, now.ExitCode);
        Assert.Contains("FAILED: Check Backup__DrillChecks__0 (SELECT count(*) = 2000 FROM appointments) returned "
            + "False", now.Stdout);
        Assert.Equal(0, await h.Database.ScalarAsync<long>("SELECT count(*) FROM patients")); // nothing changed
    }
}
