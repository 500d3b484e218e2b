using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Engine;

/// <summary>The safety backup a restore makes of the state it replaces: what it holds, and a restore whose
/// safety backup fails or whose parked copies cannot be removed.</summary>
public sealed class RestoreSafetyBackupTests
{
    [Fact]
    public async Task The_safety_backup_holds_the_state_before_the_restore()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'after' WHERE id = 1");
        File.WriteAllText(Path.Combine(h.Documents, "after.txt"), "after");

        var result = await h.RestoreAsync(backup.Filename);
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));

        var safety = (await h.Engine.ListAsync()).Single(b => b.Filename == result.SafetyBackup);
        Assert.Equal(BackupTrigger.PreRestore, safety.Trigger);
        await h.RestoreAsync(safety.Filename);
        Assert.Equal("after", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Equal("after", File.ReadAllText(Path.Combine(h.Documents, "after.txt")));
    }

    [Fact]
    public async Task Writes_made_while_the_restore_runs_are_kept_in_the_safety_backup()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        // Runs inline right before the swap: the last moment the application can still write to the live copies.
        var lastWrite = new InlineProgress(p =>
        {
            if (p.Phase != "Swapping in the restored copies") return;
            h.Database.ExecuteAsync("UPDATE patients SET name = 'written during the restore' WHERE id = 1").GetAwaiter()
                .GetResult();
            File.WriteAllText(Path.Combine(h.Documents, "during.txt"), "during");
        });

        var result = await h.Engine.RestoreAsync(
            new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test@clinic"), lastWrite);
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.False(File.Exists(Path.Combine(h.Documents, "during.txt")));
        Assert.Empty(result.Warnings);

        await h.RestoreAsync(result.SafetyBackup!);
        Assert.Equal("written during the restore",
            await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Equal("during", File.ReadAllText(Path.Combine(h.Documents, "during.txt")));
    }

    [Fact]
    public async Task A_safety_backup_that_fails_after_the_swap_keeps_the_previous_state_parked_until_it_is_written()
    {
        var failParkedDumps = true;
        await using var h = await EngineHarness.CreateAsync(replaceServices: services =>
        {
            var real = services.Single(d => d.ServiceType == typeof(BackupManager.Core.Database.IDatabaseDumper));
            services.Remove(real);
            services.AddSingleton<BackupManager.Core.Database.IDatabaseDumper>(sp =>
                new FailingParkedDumper((BackupManager.Core.Database.IDatabaseDumper)ActivatorUtilities.CreateInstance(
                    sp, real.ImplementationType!), () => failParkedDumps));
        });
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'before the restore' WHERE id = 1");
        var count = (await h.Engine.ListAsync()).Count;

        var result = await h.RestoreAsync(backup.Filename);

        // The restore stands; the previous state is whole under its parked names and the warning says where.
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Null(result.SafetyBackup);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("could not be written (the disk is on fire)", warning);
        Assert.Contains("tries again at its next start", warning);
        Assert.Equal(count, (await h.Engine.ListAsync()).Count);
        Assert.Equal(2, (await h.Database.DatabasesLikeAsync()).Count);
        Assert.Contains(Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!), p => Path.GetFileName(p)
            .Contains(".bm-old-"));
        Assert.True(File.Exists(Path.Combine(h.BackupDirectory, ".restore-journal.json")));
        var unfinished = (await h.Engine.GetStatusAsync()).UnfinishedRestore;
        Assert.NotNull(unfinished);
        Assert.Contains("safety backup of the state it replaced is not written yet", unfinished);
        Assert.Contains("__bm_old_", unfinished);

        // A new restore refuses while the previous state is still only parked.
        var refused = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(backup.Filename));
        Assert.Contains("An earlier restore is not finished", refused.Message);

        failParkedDumps = false;
        var messages = await h.Engine.RecoverAsync();
        Assert.Contains(messages, m => m.Contains("the safety backup of the previous state was written",
            StringComparison.OrdinalIgnoreCase) || m.Contains("it was written now"));
        var safety = (await h.Engine.ListAsync()).Single(b => b.Trigger == BackupTrigger.PreRestore);
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(h.BackupDirectory, ".restore-journal.json")));
        Assert.Null((await h.Engine.GetStatusAsync()).UnfinishedRestore);

        await h.RestoreAsync(safety.Filename);
        Assert.Equal("before the restore",
            await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
    }

    [Fact]
    public async Task Parked_copies_that_cannot_be_removed_leave_the_restore_and_its_safety_backup_standing()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        string? stuck = null;
        // Once the safety backup is written, one parked file becomes immutable (even root cannot delete it).
        var makeStuck = new InlineProgress(p =>
        {
            if (!p.Phase.StartsWith("Restored;", StringComparison.Ordinal)) return;
            var parked = Directory.GetDirectories(Path.GetDirectoryName(h.Documents)!, ".documents.bm-old-*").Single();
            stuck = Path.Combine(parked, "invoice-1.pdf");
            Assert.Equal(0, Chattr("+i", stuck));
        });
        try
        {
            var result = await h.Engine.RestoreAsync(
                new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test@clinic"), makeStuck);
            Assert.NotNull(result.SafetyBackup);
            Assert.Contains("could not be removed", Assert.Single(result.Warnings));
            Assert.Contains("are still there", (await h.Engine.GetStatusAsync()).UnfinishedRestore);
        }
        finally
        {
            if (stuck is not null) Chattr("-i", stuck);
        }
        Assert.Contains(await h.Engine.RecoverAsync(), m => m.Contains("parked previous state was removed"));
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Null((await h.Engine.GetStatusAsync()).UnfinishedRestore);
    }

    private static int Chattr(string flag, string path)
    {
        using var process = Process.Start(
            new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private sealed class InlineProgress(Action<BackupProgress> report) : IProgress<BackupProgress>
    {
        public void Report(BackupProgress value) => report(value);
    }

    /// <summary>Fails dumps of a parked database (the safety backup's) while <c>fail</c> says so; the live database
    /// dumps as usual.</summary>
    private sealed class FailingParkedDumper(BackupManager.Core.Database.IDatabaseDumper inner, Func<bool> fail)
        : BackupManager.Core.Database.IDatabaseDumper
    {
        public Task<BackupManager.Core.Database.DatabaseDescription> DescribeAsync(string? fromDatabase,
            CancellationToken cancellationToken) => inner.DescribeAsync(fromDatabase, cancellationToken);

        public Task DumpAsync(Stream destination, string? fromDatabase, CancellationToken cancellationToken,
            bool lowPriority = false) =>
            fromDatabase is not null && fail()
                ? throw new BackupException(BackupErrorKind.Environment, "the disk is on fire")
                : inner.DumpAsync(destination, fromDatabase, cancellationToken, lowPriority);
    }
}
