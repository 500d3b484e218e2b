using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>Point-in-time restores on the real test cluster: WAL from pg_receivewal, a base backup, a temporary
/// server recovered to the second, the normal restore swapping the result in.</summary>
public sealed class PointInTimeRestoreTests
{
    [Fact]
    public async Task A_row_written_a_second_before_the_target_is_restored_and_one_written_a_second_after_is_not()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        var files = await h.CreateBackupAsync(); // the files of the newest backup before the target come along
        await h.Database.ExecuteAsync("CREATE TABLE notes (id int, text text); INSERT INTO notes VALUES (1, 'before')");
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await h.Database.ExecuteAsync("INSERT INTO notes VALUES (2, 'after')");
        File.Delete(Path.Combine(h.Documents, "invoice-1.pdf")); // deleted after that backup: it comes back
        AssertPrivate(pitr.Layout.Root); // before the command: each start of the app tightens the backup folder

        // As the runbook deploys it: a dedicated REPLICATION role, whose session the owner's swap could not end.
        var walRole = h.Database.NewRoleName("wal");
        await h.Database.ExecuteAsAdminAsync($"CREATE ROLE {walRole} LOGIN REPLICATION PASSWORD 'wal-secret'");
        var env = AppProcess.EnvironmentFor(h);
        env["Backup__Pitr__Connection"] = new Npgsql.NpgsqlConnectionStringBuilder(h.Database.ConnectionString)
            { Username = walRole, Password = "wal-secret", Pooling = true }.ConnectionString;
        var run = await AppProcess.RunAsync(env, null, "app:restore-backup",
            "--to-time", target.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz",
                System.Globalization.CultureInfo.InvariantCulture), "--force");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["1|before"], await h.Database.RowsAsync("SELECT id, text FROM notes ORDER BY id"));
        Assert.Equal(500, await h.Database.ScalarAsync<long>("SELECT count(*) FROM patients"));
        Assert.True(File.Exists(Path.Combine(h.Documents, "invoice-1.pdf")));
        Assert.Contains($"the files of {files.Filename}", run.Stderr);
        var made = (await h.Engine.ListAsync()).Single(b => b.Trigger == BackupTrigger.PointInTime);
        Assert.Contains(made.Filename, run.Stderr);
        Assert.Contains((await h.Engine.ListAsync()), b => b.Trigger == BackupTrigger.PreRestore);
    }

    [Fact]
    public async Task A_restore_to_a_time_before_a_drop_table_brings_the_table_back()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        await h.Database.ExecuteAsync("CREATE TABLE charts AS SELECT g AS id, 'tooth ' || g AS note "
            + "FROM generate_series(1, 300) g");
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await h.Database.ExecuteAsync("DROP TABLE charts");

        var (archive, result) = await pitr.RestoreToAsync(target, BackupScope.DatabaseOnly);

        Assert.True(result.RestoredDatabase);
        Assert.Null(archive.FilesFrom);
        Assert.Equal(300, await h.Database.ScalarAsync<long>("SELECT count(*) FROM charts"));
        Assert.Equal(2000, await h.Database.ScalarAsync<long>("SELECT count(*) FROM appointments"));
    }

    private static void AssertPrivate(string root)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Append(root))
        {
            var mode = File.GetUnixFileMode(path);
            var open = mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
            Assert.True(open == 0, $"{path} is {mode}");
        }
    }
}
