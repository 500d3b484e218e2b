using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Engine;

/// <summary>A restore interrupted by a crash is undone (before its commit point) or finished (after it) at the next
/// start.</summary>
public sealed class RestoreRecoveryTests
{
    private static async Task CloneDatabaseAsync(TestDatabase live, string cloneName, string changeSql)
    {
        await using (var connection = new NpgsqlConnection(
            TestPostgres.With(TestPostgres.AdminConnectionString, "postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{cloneName}\" TEMPLATE \"{live.Name}\"",
                connection);
            await command.ExecuteNonQueryAsync();
        }
        await using var clone = new NpgsqlConnection(TestPostgres.With(live.ConnectionString, cloneName));
        await clone.OpenAsync();
        await using var change = new NpgsqlCommand(changeSql, clone);
        await change.ExecuteNonQueryAsync();
    }

    private static (FolderSwapPlan Plan, string Parent) StageFolder(EngineHarness h, string content)
    {
        var parent = Path.GetDirectoryName(h.Documents)!;
        var plan = new FolderSwapPlan(h.Documents, Path.Combine(parent, ".documents.bm-staging-abc"),
            Path.Combine(parent, ".documents.bm-old-abc"), true);
        Directory.CreateDirectory(plan.Staging);
        File.WriteAllText(Path.Combine(plan.Staging, "restored.txt"), content);
        return (plan, parent);
    }

    [Fact]
    public async Task A_restore_killed_while_preparing_is_rolled_back_and_the_live_state_is_untouched()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var live = TestFolder.Snapshot(h.Documents);
        var (plan, parent) = StageFolder(h, "half-extracted");
        var staging = h.Database.Name + "__bm_staging_abc";
        await CloneDatabaseAsync(h.Database, staging, "UPDATE patients SET name = 'staged'");
        new RestoreJournal
        {
            Id = "abc", Backup = "backup-2026-01-01-00-00-00.zip", RequestedBy = "alice",
                State = RestoreJournalState.Preparing,
            DatabaseStaging = staging, DatabaseOld = h.Database.Name + "__bm_old_abc", Folders = [plan],
        }.Save(h.BackupDirectory);

        var messages = await h.Engine.RecoverAsync();

        Assert.Contains(messages, m => m.Contains("interrupted before it changed anything"));
        Assert.Equal(live, TestFolder.Snapshot(h.Documents));
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order());
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.False(File.Exists(RestoreJournal.PathIn(h.BackupDirectory)));
    }

    [Theory]
    [InlineData(false, false)] // killed right after writing "committing"
    [InlineData(true, false)]  // killed after the database swap
    [InlineData(true, true)]   // killed after the database swap and the folder's first rename
    public async Task A_restore_killed_while_swapping_is_completed_so_database_and_files_are_both_new(
        bool databaseSwapped, bool folderHalfSwapped)
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var (plan, parent) = StageFolder(h, "restored");
        var staging = h.Database.Name + "__bm_staging_abc";
        var old = h.Database.Name + "__bm_old_abc";
        await CloneDatabaseAsync(h.Database, staging, "UPDATE patients SET name = 'restored'");
        if (databaseSwapped)
        {
            await using var connection = new NpgsqlConnection(
                TestPostgres.With(TestPostgres.AdminConnectionString, "postgres"));
            await connection.OpenAsync();
            foreach (var sql in new[] { $"ALTER DATABASE \"{h.Database.Name}\" RENAME TO \"{old}\"",
                $"ALTER DATABASE \"{staging}\" RENAME TO \"{h.Database.Name}\"" })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }
        if (folderHalfSwapped) Directory.Move(plan.Target, plan.Old);
        new RestoreJournal
        {
            Id = "abc", Backup = "backup-2026-01-01-00-00-00.zip", RequestedBy = "alice",
                State = RestoreJournalState.Committing,
            DatabaseStaging = staging, DatabaseOld = old, Folders = [plan],
        }.Save(h.BackupDirectory);

        var messages = await h.Engine.RecoverAsync();

        Assert.Contains(messages, m => m.Contains("was completed"));
        Assert.Equal(["restored.txt"], Directory.GetFiles(h.Documents).Select(Path.GetFileName));
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order());
        Assert.Equal("restored", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.False(File.Exists(RestoreJournal.PathIn(h.BackupDirectory)));
    }
}
