using BackupManager.Core;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

public sealed class SafetyTests
{
    public static TheoryData<string> TraversalNames => new()
    {
        "../sentinel.txt", "..%2fsentinel.txt", "%2e%2e/sentinel.txt", "..\\sentinel.txt", "/etc/passwd",
        "backup-2026-01-01-00-00-00.zip/../../sentinel.txt", "backup-2026-01-01-00-00-00.zip\0.txt",
        "backup-2026-01-01-00-00-0０.zip", "backup-2026-01-01-00-00-00.zıp", "sentinel.txt", "",
            new string('a', 5000),
        "./backup-2026-01-01-00-00-00.zip", "backup-2026-01-01-00-00-00.zip ", "%252e%252e%252fsentinel.txt",
    };

    [Theory]
    [MemberData(nameof(TraversalNames))]
    public async Task Filenames_that_are_not_backups_are_refused_and_nothing_outside_the_folder_is_touched(string name)
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var sentinel = Path.Combine(Path.GetDirectoryName(h.BackupDirectory)!, "sentinel.txt");
        File.WriteAllText(sentinel, "must survive");
        // A real backup exists, so a name that merely resembles it is what is being tested.
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        await h.CreateBackupAsync(BackupScope.FilesOnly);

        foreach (var attempt in new Func<Task>[]
        {
            () => h.Engine.DeleteAsync(name, "test"),
            () => h.Engine.VerifyAsync(name),
            () => h.RestoreAsync(name),
            () => Task.FromResult(h.Engine.GetArchivePath(name)),
            () => h.Engine.SetPinnedAsync(name, true, "test"),
        })
        {
            var error = await Assert.ThrowsAsync<BackupException>(attempt);
            Assert.Contains(error.Kind, new[] { BackupErrorKind.InvalidInput, BackupErrorKind.NotFound });
            Assert.False(error.Message.Contains('\0'), "the error echoes a NUL character");
        }
        Assert.Equal("must survive", File.ReadAllText(sentinel));
        Assert.Single(await h.Engine.ListAsync());
    }

    /// <summary>Neither a finished archive nor a temporary one is in the folder.</summary>
    internal static void AssertNoArchiveFiles(string backupDirectory)
    {
        Assert.Empty(Directory.GetFiles(backupDirectory, "backup-*"));
        Assert.Empty(Directory.GetFiles(backupDirectory, ".backup-*"));
    }

    [Fact]
    public async Task A_symlink_named_like_a_backup_is_not_served_or_deleted()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var outside = Path.Combine(h.Folder.Path, "outside.zip");
        File.WriteAllText(outside, "secret");
        File.CreateSymbolicLink(Path.Combine(h.BackupDirectory, "backup-2026-01-01-00-00-00.zip"), outside);

        Assert.Empty(await h.Engine.ListAsync());
        Assert.Equal(BackupErrorKind.NotFound,
            Assert.Throws<BackupException>(() => h.Engine.GetArchivePath("backup-2026-01-01-00-00-00.zip")).Kind);
        await Assert.ThrowsAsync<BackupException>(() => h.Engine.DeleteAsync("backup-2026-01-01-00-00-00.zip", "test"));
        Assert.True(File.Exists(outside));
    }

    [Fact]
    public async Task A_second_operation_is_refused_while_the_lock_is_held_and_says_who_holds_it()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);

        // Held by another request or job of the same process.
        using (await Task.Run(() => h.Get<BackupOperationLock>().Acquire("restore", "alice@clinic")))
        {
            foreach (var attempt in new Func<Task>[]
            {
                () => h.CreateBackupAsync(BackupScope.FilesOnly),
                () => h.RestoreAsync(backup.Filename),
                () => h.Engine.DeleteAsync(backup.Filename, "bob"),
            })
            {
                var error = await Assert.ThrowsAsync<BackupException>(attempt);
                Assert.Equal(BackupErrorKind.Busy, error.Kind);
                Assert.Contains("Another backup operation is running", error.Message);
                Assert.Contains("restore by alice@clinic", error.Message);
            }
            // Reading is never blocked.
            Assert.Single(await h.Engine.ListAsync());
            await h.Engine.VerifyAsync(backup.Filename);
        }
        await h.CreateBackupAsync(BackupScope.FilesOnly);
    }

    [Fact]
    public async Task A_lease_handed_on_is_used_once_and_the_lock_is_never_re_entered()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var locking = h.Get<BackupOperationLock>();

        using (var lease = locking.Acquire("create", "job"))
        {
            // Without its lease, even the holder's own flow is refused: nothing is taken twice by accident.
            var busy = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync(BackupScope.FilesOnly));
            Assert.Equal(BackupErrorKind.Busy, busy.Kind);
            var first = await h.Engine.CreateAsync(new CreateBackupRequest(BackupScope.FilesOnly,
                BackupTrigger.Manual, "job", Lease: lease));
            // The engine used the lease and left it held: the job decides when the lock goes.
            Assert.True(lease.IsHeld);
            Assert.Null(locking.TryAcquire("restore", "someone"));
            await WallClock.NextSecondAsync(); // backup names are per second
            await h.Engine.RestoreAsync(new RestoreBackupRequest(first.Filename, BackupScope.FilesOnly, "job",
                Lease: lease));
            Assert.True(lease.IsHeld);
        }

        var released = locking.Acquire("create", "job");
        released.Dispose();
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Engine.CreateAsync(new CreateBackupRequest(
            BackupScope.FilesOnly, BackupTrigger.Manual, "job", Lease: released)));
        using var other = new BackupOperationLock(h.Documents).Acquire("create", "elsewhere");
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Engine.CreateAsync(new CreateBackupRequest(
            BackupScope.FilesOnly, BackupTrigger.Manual, "job", Lease: other)));
    }

    [Fact]
    public async Task Intake_never_takes_over_a_file_that_is_not_an_intake_temp_file()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);
        // A listed backup handed in by mistake would be deleted once "taken over": it must be refused untouched.
        await Assert.ThrowsAsync<ArgumentException>(() => h.Engine.AddExactCopyAsync(backup.Filename,
            h.PathOf(backup.Filename), "test"));
        Assert.True(File.Exists(h.PathOf(backup.Filename)));
    }

    [Fact]
    public async Task Two_concurrent_creates_give_one_backup_and_one_busy_error()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        // The first create holds at its first step (lock taken) until the second has answered: no timing luck.
        var secondAnswered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = false;
        var first = Task.Run(() => h.Engine.CreateAsync(new CreateBackupRequest(BackupScope.Full, BackupTrigger.Manual,
            "first"), new SynchronousProgress<BackupProgress>(_ =>
            {
                if (held) return;
                held = true;
                secondAnswered.Task.Wait(TimeSpan.FromMinutes(2));
            })));
        while (!held && !first.IsCompleted) await Task.Delay(10);
        try { await h.CreateBackupAsync(); secondAnswered.SetResult("ok"); }
        catch (BackupException e) when (e.Kind == BackupErrorKind.Busy) { secondAnswered.SetResult("busy"); }
        await first;
        Assert.Equal("busy", await secondAnswered.Task);
        Assert.Single(await h.Engine.ListAsync());
    }

    [Fact]
    public async Task Retention_after_create_keeps_the_newest_MAX_BACKUPS()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 2, withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var made = new List<string>();
        for (var i = 0; i < 4; i++) made.Add((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename);

        var remaining = (await h.Engine.ListAsync()).Select(b => b.Filename).ToList();
        Assert.Equal(made.TakeLast(2).Reverse(), remaining);
    }

    [Fact]
    public async Task A_wrong_database_password_fails_with_a_clear_message_and_leaves_no_file()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        await using var h = await EngineHarness.CreateAsync(
            connectionString: TestPostgres.With(database.ConnectionString, database.Name, password: "wrong-password"));

        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync());

        Assert.Equal(BackupErrorKind.Database, error.Kind);
        Assert.Contains("refused the login", error.Message);
        Assert.DoesNotContain("wrong-password", error.Message);
        AssertNoArchiveFiles(h.BackupDirectory);
    }

    [Fact]
    public async Task A_pg_dump_that_fails_midway_leaves_no_backup_and_carries_its_stderr()
    {
        // A fake pg_dump that writes some bytes, complains and exits 1: the archive must be discarded.
        await using var h = await EngineHarness.CreateAsync(o => o.PgBinDirectory = FakeTools.Folder(o, "pg_dump",
            """
            if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 15.18"; exit 0; fi
            head -c 100000 /dev/urandom
            echo "pg_dump: error: query failed: server closed the connection unexpectedly" >&2
            exit 1
            """));
        await h.SeedAsync();

        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync());

        Assert.Contains("server closed the connection unexpectedly", error.Message);
        AssertNoArchiveFiles(h.BackupDirectory);
        Assert.Empty(await h.Engine.ListAsync());
    }

    [Fact]
    public async Task A_pg_dump_older_than_the_server_is_explained_with_both_versions_and_the_fix()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.PgBinDirectory = FakeTools.Folder(o, "pg_dump",
            """
            if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 15.18"; exit 0; fi
            echo "pg_dump: error: aborting because of server version mismatch" >&2
            echo "pg_dump: detail: server version: 17.2; pg_dump version: 15.18" >&2
            exit 1
            """));

        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync(BackupScope.DatabaseOnly));

        Assert.Contains("PostgreSQL 17.2", error.Message);
        Assert.Contains("15.18", error.Message);
        Assert.Contains("postgresql-client-17", error.Message);
        AssertNoArchiveFiles(h.BackupDirectory);
    }

    [Fact]
    public async Task A_missing_pg_dump_says_how_to_install_it()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.PgBinDirectory = "/nonexistent/bin");
        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync(BackupScope.DatabaseOnly));
        Assert.Equal(BackupErrorKind.Environment, error.Kind);
        Assert.Contains("apt-get install postgresql-client", error.Message);
    }

    [Fact]
    public async Task A_failing_pg_restore_rolls_back_and_changes_nothing()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'live' WHERE id = 1");
        File.WriteAllText(Path.Combine(h.Documents, "live.txt"), "live");
        var filesBefore = TestFolder.Snapshot(h.Documents);

        // Same engine and folders, but pg_restore fails half-way through reading the dump.
        await using var broken = await EngineHarness.CreateAsync(o =>
        {
            o.Directory = h.BackupDirectory;
            o.Paths = [.. h.Options.Paths];
            o.PgBinDirectory = FakeTools.Folder(o, "pg_restore",
                "head -c 1000 >/dev/null; echo 'pg_restore: error: could not execute query: ERROR: out of memory' " +
                ">&2; exit 1",
                also: ("pg_dump", "exec /usr/bin/pg_dump \"$@\""));
        }, connectionString: h.Database.ConnectionString);

        var error = await Assert.ThrowsAsync<BackupException>(() => broken.RestoreAsync(backup.Filename));

        Assert.Contains("nothing was changed", error.Message);
        Assert.Contains("out of memory", error.Message);
        Assert.Equal("live", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.Equal(filesBefore, TestFolder.Snapshot(h.Documents));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.False(File.Exists(RestoreJournal.PathIn(h.BackupDirectory)));
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
    }
}

/// <summary>Stand-in PostgreSQL client programs (shell scripts) for failure paths a real server cannot easily
/// produce.</summary>
internal static class FakeTools
{
    /// <summary>Writes the scripts beside the backup folder of <paramref name="options"/>, inside the test's own
    /// folder, so they go when the test's harness does.</summary>
    public static string Folder(BackupOptions options, string tool, string script,
        params (string Tool, string Script)[] also)
    {
        var folder = Path.Combine(Path.GetDirectoryName(options.Directory)!, "fake-bin");
        Directory.CreateDirectory(folder);
        foreach (var (name, body) in also.Prepend((tool, script)))
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return folder;
    }
}
