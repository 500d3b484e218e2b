using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Reliability;

/// <summary>A console restore killed while the web app runs is undone by the web app without waiting for a
/// restart.</summary>
public sealed class OrphanedRestoreTests
{
    [Fact]
    public async Task The_running_web_app_undoes_a_console_restore_that_was_killed_while_preparing()
    {
        await using var host = await WebAppHost.StartAsync();
        var h = host.Harness;
        await h.SeedAsync();
        for (var i = 0; i < 10; i++) TestFolder.WriteFile(Path.Combine(h.Xrays, "bulk", $"scan-{i}.dcm"),
            TestFolder.RandomBytes(3_000_000));
        var backup = (await h.CreateBackupAsync()).Filename;
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'live' WHERE id = 1");
        var live = TestFolder.Snapshot(h.Xrays);

        var journalPath = RestoreJournal.PathIn(h.BackupDirectory);
        using (var restore = AppProcess.Start(AppProcess.EnvironmentFor(h), "app:restore-backup", backup, "--force"))
        {
            restore.StandardInput.Close();
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(journalPath) && !restore.HasExited
                && waited.Elapsed < TimeSpan.FromMinutes(1)) await Task.Delay(10);
            Assert.True(File.Exists(journalPath), "the console restore never started its journal");
            restore.Kill(entireProcessTree: false); // kill -9 of the command only: it never gets to clean up
            await restore.WaitForExitAsync();
        }
        Assert.Equal(RestoreJournalState.Preparing, RestoreJournal.Load(h.BackupDirectory)!.State);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (File.Exists(journalPath) && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.False(File.Exists(journalPath), "the web app did not finish or undo the orphaned restore within 30 s");
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Equal("live", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Equal(live, TestFolder.Snapshot(h.Xrays));
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
        Assert.Contains("interrupted before it changed anything",
            File.ReadAllText(Path.Combine(h.BackupDirectory, "audit.log")));
    }
}
