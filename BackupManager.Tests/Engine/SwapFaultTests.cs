using BackupManager.Core;
using BackupManager.Core.Database;
using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Faults injected into the swap, the one step of a restore that changes live state: the database swap is one
/// transaction, a failed swap is undone, and every message says truthfully what state was left.
/// </summary>
public sealed class SwapFaultTests
{
    private sealed record LiveState(
        List<string> Rows, SortedDictionary<string, string> Xrays, SortedDictionary<string, string> Documents);

    private static void AssertSame(LiveState expected, LiveState actual)
    {
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Xrays, actual.Xrays);
        Assert.Equal(expected.Documents, actual.Documents);
    }

    private static async Task<LiveState> CaptureAsync(EngineHarness h) => new(
        await h.Database.RowsAsync("SELECT id, name FROM patients ORDER BY id"), TestFolder.Snapshot(h.Xrays),
            TestFolder.Snapshot(h.Documents));

    /// <summary>A harness whose database restorer is the real one wrapped by <see cref="FaultyRestorer"/>; a backup,
    /// then a changed live state.</summary>
    private static async Task<(EngineHarness H, FaultyRestorer Faults, string Backup, LiveState Backed,
        LiveState Live)> ArrangeAsync()
    {
        FaultyRestorer? faults = null;
        var h = await EngineHarness.CreateAsync(replaceServices: services =>
            services.AddSingleton<IDatabaseRestorer>(sp =>
            faults = new FaultyRestorer(ActivatorUtilities.CreateInstance<PgRestoreRunner>(sp),
                sp.GetRequiredService<BackupOptions>().Directory)));
        await h.SeedAsync();
        var backed = await CaptureAsync(h);
        var backup = (await h.CreateBackupAsync()).Filename;
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed after the backup' WHERE id < 10");
        File.WriteAllText(Path.Combine(h.Documents, "after-backup.txt"), "new");
        _ = h.Get<IDatabaseRestorer>();
        return (h, faults!, backup, backed, await CaptureAsync(h));
    }

    [Fact]
    public async Task A_rename_refused_inside_the_swap_transaction_leaves_the_live_database_as_it_was()
    {
        var (h, faults, backup, _, live) = await ArrangeAsync();
        await using var _ = h;
        var count = (await h.Engine.ListAsync()).Count;
        faults.HoldStagingOpen = true; // the second rename fails: the staging database is in use

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(backup));

        Assert.Contains("rolled back", error.Message);
        Assert.Contains("Everything was put back", error.Message);
        Assert.Equal(1, faults.SwapCalls);
        // Before any undo ran, the live name still held the live database: the first rename never committed alone.
        Assert.Equal(2, faults.ExistingRightAfterSwap!.Count);
        Assert.Contains(h.Database.Name, faults.ExistingRightAfterSwap);
        Assert.DoesNotContain(faults.ExistingRightAfterSwap, n => n.Contains("__bm_old_"));
        AssertSame(live, await CaptureAsync(h)); // the first rename (live to old) was rolled back with the second
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.False(File.Exists(RestoreJournal.PathIn(h.BackupDirectory)));
        Assert.Equal(count, (await h.Engine.ListAsync()).Count); // no safety backup: nothing was replaced
    }

    [Fact]
    public async Task A_folder_swap_failing_after_the_database_swap_puts_the_database_and_folders_back()
    {
        var (h, faults, backup, _, live) = await ArrangeAsync();
        await using var _ = h;
        faults.BlockFirstFolderAfterSwap = true;

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(backup));

        Assert.Contains("Everything was put back", error.Message);
        Assert.Contains("both it and", error.Message); // the cause
        faults.RemoveObstacle();
        AssertSame(live, await CaptureAsync(h));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
        Assert.False(File.Exists(RestoreJournal.PathIn(h.BackupDirectory)));
    }

    [Fact]
    public async Task When_putting_back_fails_too_the_message_says_where_all_is_and_next_start_finishes_the_restore()
    {
        var (h, faults, backup, backed, _) = await ArrangeAsync();
        await using var _ = h;
        faults.BlockFirstFolderAfterSwap = true;
        faults.FailSwapBack = true;

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(backup));

        Assert.Contains("putting the previous state back failed too (simulated: the server went away)", error.Message);
        Assert.DoesNotContain("Everything was put back", error.Message);
        var journal = RestoreJournal.Load(h.BackupDirectory)!;
        Assert.Contains($"databases on the server: {h.Database.Name}, {journal.DatabaseOld}", error.Message);
        Assert.Contains(journal.Folders[0].Staging, error.Message);
        Assert.Contains("completes the restore from it at its next start", error.Message);

        // What the message promises: once the obstacle is gone, the next start finishes the restore, all of it.
        faults.RemoveObstacle();
        faults.FailSwapBack = faults.BlockFirstFolderAfterSwap = false;
        var messages = await h.Engine.RecoverAsync();
        Assert.Contains(messages, m => m.Contains("was completed"));
        AssertSame(backed, await CaptureAsync(h));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    /// <summary>The real restorer, with faults switched on by the test.</summary>
    private sealed class FaultyRestorer(IDatabaseRestorer inner, string backupDirectory) : IDatabaseRestorer
    {
        private string? _obstacle;
        public bool HoldStagingOpen { get; set; }
        public bool BlockFirstFolderAfterSwap { get; set; }
        public bool FailSwapBack { get; set; }
        public int SwapCalls { get; private set; }
        public IReadOnlySet<string>? ExistingRightAfterSwap { get; private set; }

        public string DatabaseName => inner.DatabaseName;
        public Task<IReadOnlyList<string>> PrepareAsync(string stagingName, ManifestDatabase recorded, bool foreign,
            Func<Stream, CancellationToken, Task> writeDump, CancellationToken cancellationToken,
            bool createMissingRoles = true) =>
            inner.PrepareAsync(stagingName, recorded, foreign, writeDump, cancellationToken, createMissingRoles);
        public Task DropIfExistsAsync(string name, CancellationToken cancellationToken) =>
            inner.DropIfExistsAsync(name, cancellationToken);
        public Task<bool> AllowConnectionsIfExistsAsync(string name, CancellationToken cancellationToken) =>
            inner.AllowConnectionsIfExistsAsync(name, cancellationToken);
        public Task<IReadOnlySet<string>> WhichExistAsync(IReadOnlyList<string> names,
            CancellationToken cancellationToken) => inner.WhichExistAsync(names, cancellationToken);

        public async Task SwapInAsync(string stagingName, string oldName, CancellationToken cancellationToken)
        {
            SwapCalls++;
            if (HoldStagingOpen)
            {
                await using var holder = new NpgsqlConnection(
                    TestPostgres.With(TestPostgres.AdminConnectionString, stagingName));
                await holder.OpenAsync(cancellationToken);
                try { await inner.SwapInAsync(stagingName, oldName, cancellationToken); }
                finally { ExistingRightAfterSwap = await inner.WhichExistAsync([DatabaseName, stagingName, oldName],
                    cancellationToken); }
                return;
            }
            await inner.SwapInAsync(stagingName, oldName, cancellationToken);
            if (BlockFirstFolderAfterSwap)
            {
                // A non-empty folder where the live folder is to be parked: its rename fails, as on a read-only or full
                // disk.
                _obstacle = RestoreJournal.Load(backupDirectory)!.Folders[0].Old;
                Directory.CreateDirectory(_obstacle);
                File.WriteAllText(Path.Combine(_obstacle, "in-the-way"), "x");
            }
        }

        public Task SwapBackAsync(string stagingName, string oldName, CancellationToken cancellationToken) =>
            FailSwapBack ? throw new BackupException(BackupErrorKind.Database, "simulated: the server went away")
                : inner.SwapBackAsync(stagingName, oldName, cancellationToken);

        public void RemoveObstacle()
        {
            if (_obstacle is not null) Directory.Delete(_obstacle, recursive: true);
        }
    }
}
