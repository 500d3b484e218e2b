using System.Globalization;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Core.Pitr;
using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Pitr;

/// <summary>A restore to a time from a destination killed with kill -9 leaves its staging folder (decrypted base
/// backup and WAL: patient data) and a temporary server; the next start removes both.</summary>
public sealed class OffsiteRestoreCrashTests
{
    [Fact]
    public async Task Kill_9_during_a_restore_from_a_destination_and_the_next_start_removes_its_staging_folder()
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var destination = TestDestinations.Folder(keys.Sub("usb"));
        await using var pitr = await PitrScenario.StartAsync(configureBackup: o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["usb"] = destination;
        });
        var h = pitr.Harness;
        await pitr.BaseBackupAsync();
        var target = await pitr.WriteRowsAroundATargetAsync();
        await pitr.SwitchSegmentsAsync(1);
        var copied = Assert.Single(await h.Get<PitrOffsiteCopier>().CopyAsync(now: true, CancellationToken.None));
        Assert.True(copied.Succeeded, copied.Error);
        var env = OffsiteRecoveryTests.Env(h, "usb", destination, [recipient]);
        var time = target.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        var pattern = $"{PitrLayout.TempPrefix}{PitrLayout.OffsiteRestorePurpose}-*";

        using (var pause = PausePoint.In(env, FaultInjection.PointInTimeRecovered, 120_000))
        using (var app = AppProcess.Start(env, "app:restore-backup", "--from", "usb", "--identity", identityFile,
            "--to-time", time, "--only-db", "--force"))
        {
            await pause.ReachedAsync(app, TimeSpan.FromMinutes(3));
            app.Kill(); // SIGKILL while the temporary server runs over the staged copy
            await app.WaitForExitAsync();
        }
        var staging = Assert.Single(Directory.GetDirectories(pitr.Layout.Root, pattern));
        Assert.NotEmpty(Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories));
        var copies = ServerAccount.Current().Home;
        var server = $"backupmanager-recovery-{new PitrLayout(staging).SlotName}-";
        var instance = Assert.Single(Directory.GetDirectories(copies, server + "*"));
        Assert.Equal(["1", "2"], await h.Database.RowsAsync("SELECT id FROM notes ORDER BY id"));

        PausePoint.Clear(env);
        var next = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Contains("staging folder(s) of an interrupted restore from a destination", next.Stderr + next.Stdout);
        Assert.Empty(Directory.GetDirectories(pitr.Layout.Root, pattern));
        Assert.False(Directory.Exists(instance), "the temporary server's copy of the database was left");
        Assert.True(Directory.Exists(pitr.Layout.Wal) && Directory.EnumerateFiles(pitr.Layout.Base, "*",
            SearchOption.AllDirectories).Any(), "start-up removed more than the staging folder");
        Assert.Equal(["1", "2"], await h.Database.RowsAsync("SELECT id FROM notes ORDER BY id"));
    }
}
