using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Commands;

/// <summary>Pinning against real retention runs: the one after each create and app:prune-backups.</summary>
public sealed class PinRetentionTests
{
    [Fact]
    public async Task A_pinned_backup_survives_retention_runs_and_the_first_run_after_unpinning_deletes_it()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 1, withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var pinned = (await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename;
        await h.Engine.SetPinnedAsync(pinned, true, "test@clinic");
        var second = (await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename;
        var third = (await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename;
        // MAX_BACKUPS=1: the create of the third deleted the second, not the older pinned one.
        Assert.Equal([third, pinned], (await h.Engine.ListAsync()).Select(b => b.Filename));
        Assert.False(File.Exists(h.PathOf(second)));
        var env = AppProcess.EnvironmentFor(h);

        var kept = await AppProcess.RunAsync(env, null, "app:prune-backups");

        Assert.True(kept.ExitCode == 0, kept.Stderr);
        Assert.Contains($"keep   {pinned}  pinned", kept.Stdout);
        Assert.True(File.Exists(h.PathOf(pinned)));

        await h.Engine.SetPinnedAsync(pinned, false, "test@clinic");
        var pruned = await AppProcess.RunAsync(env, null, "app:prune-backups");

        Assert.True(pruned.ExitCode == 0, pruned.Stderr);
        Assert.Contains($"delete {pinned}  older than the newest 1 daily and manual backups", pruned.Stdout);
        Assert.False(File.Exists(h.PathOf(pinned)));
        Assert.Equal([third], (await h.Engine.ListAsync()).Select(b => b.Filename));
    }
}
