using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Commands;

/// <summary>
/// <c>app:restore-backup --from</c> holds one operation lease from the fetch to the end of the restore: a create fired
/// between them (whose retention could delete the archive just fetched) is refused as busy.
/// </summary>
public sealed class RestoreFromLeaseTests
{
    [Fact]
    public async Task A_create_fired_between_the_fetch_and_the_restore_is_refused_and_the_restore_completes()
    {
        using var keys = new TestFolder();
        var (identity, recipient) = TestDestinations.Key(keys);
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);
        env["MAX_BACKUPS"] = "1"; // a create's retention would delete the older, fetched archive
        env["Backup__Destinations__usb__Type"] = "folder";
        env["Backup__Destinations__usb__Path"] = Directory.CreateDirectory(Path.Combine(keys.Path, "usb")).FullName;
        env["Backup__Encryption__Recipients__0"] = recipient;
        var created = await AppProcess.RunAsync(env, null, "app:create-backup");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var filename = created.Stdout.Trim();
        File.Delete(h.PathOf(filename));
        await WallClock.NextSecondAsync(); // the next create gets a later name

        var restoreEnv = new Dictionary<string, string>(env);
        // Held until the racing create has ended, however long a loaded machine takes to start it.
        using var pause = PausePoint.In(restoreEnv, "fetched", 120_000);
        using var restore = AppProcess.Start(
            restoreEnv, "app:restore-backup", filename, "--from", "usb", "--identity", identity,
            "--force");
        var stdout = restore.StandardOutput.ReadToEndAsync();
        var stderr = restore.StandardError.ReadToEndAsync();
        restore.StandardInput.Close();
        await pause.ReachedAsync(restore, TimeSpan.FromSeconds(60));
        // Rebuilt in the intake area, not listed: it joins the folder only once the restore has verified it.
        Assert.Single(Directory.GetFiles(h.BackupDirectory, ".upload-*"));
        Assert.False(File.Exists(h.PathOf(filename)), "listed before it was verified");

        var racing = await AppProcess.RunAsync(env, null, "app:create-backup");
        pause.Release();

        await restore.WaitForExitAsync();
        Assert.True(restore.ExitCode == 0, await stderr + await stdout);
        Assert.Equal(3, racing.ExitCode); // busy
        Assert.Contains("Another backup operation is running", racing.Stderr);
        Assert.Contains($"Restored {filename}", await stderr);
        Assert.True(File.Exists(h.PathOf(filename)), "the verified copy was not kept");
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, ".upload-*"));
    }
}
