using System.Globalization;
using BackupManager.Core;
using BackupManager.Core.Pitr;
using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>A point-in-time restore killed with kill -9 changes nothing, and the temporary server it started (which
/// outlives the app) and its copy of the database are gone at the next start.</summary>
public sealed class PointInTimeCrashTests
{
    [Fact]
    public async Task Kill_9_while_recovering_leaves_all_old_and_the_next_start_stops_the_temporary_server()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        var target = await pitr.WriteRowsAroundATargetAsync();
        var env = AppProcess.EnvironmentFor(h);
        var time = target.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        var copies = ServerAccount.Current().Home;
        var prefix = $"backupmanager-recovery-{pitr.Layout.SlotName}-";

        using (var pause = PausePoint.In(env, FaultInjection.PointInTimeRecovered, 120_000))
        using (var app = AppProcess.Start(env, "app:restore-backup", "--to-time", time, "--only-db", "--force"))
        {
            await pause.ReachedAsync(app, TimeSpan.FromMinutes(3));
            app.Kill(); // SIGKILL while the temporary server runs
            await app.WaitForExitAsync();
        }
        var copy = Assert.Single(Directory.GetDirectories(copies, prefix + "*"));
        Assert.NotEmpty(ServersIn(copy)); // the recovered server outlived the app: it must not be left running
        Assert.Equal(["1", "2"], await h.Database.RowsAsync("SELECT id FROM notes ORDER BY id"));
        Assert.DoesNotContain(await h.Engine.ListAsync(), b => b.Trigger == BackupTrigger.PointInTime);

        PausePoint.Clear(env);
        var next = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Contains("interrupted point-in-time restore", next.Stderr + next.Stdout);
        Assert.False(Directory.Exists(copy));
        Assert.Empty(ServersIn(copy));
        var again = await AppProcess.RunAsync(env, null, "app:restore-backup", "--to-time", time, "--only-db",
            "--force");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(["1"], await h.Database.RowsAsync("SELECT id FROM notes ORDER BY id"));
        Assert.Empty(Directory.GetDirectories(copies, prefix + "*"));
    }

    /// <summary>PostgreSQL server processes whose data folder is inside <paramref name="folder"/>.</summary>
    private static List<int> ServersIn(string folder) => ProcessTable.Matching(line =>
        line.Contains("postgres", StringComparison.Ordinal)
        && line.Contains(folder + "/data", StringComparison.Ordinal));
}
