using BackupManager.Core.Archive;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

public sealed class RoundTripTests
{
    private const string PatientsQuery = "SELECT id, name, born, balance, photo FROM patients ORDER BY id";

    [Theory]
    [InlineData(1, 1)] // the defaults on a 2-core machine: dump streamed into pg_restore in one transaction
    [InlineData(2, 0)] // parallel pg_restore from a verified temporary file; dump stored, not deflated
    [InlineData(3, 6)]
    public async Task Full_restore_brings_back_the_exact_rows_and_file_bytes_of_the_backup(int restoreJobs,
        int dumpCompressionLevel)
    {
        var commands = new CapturedLog(typeof(BackupManager.Core.Database.ExternalProcessRunner).FullName!);
        await using var h = await EngineHarness.CreateAsync(o =>
            { o.RestoreJobs = restoreJobs; o.DumpCompressionLevel = dumpCompressionLevel; },
            replaceServices: commands.AddTo);
        await h.SeedAsync();
        var rowsBefore = await h.Database.RowsAsync(PatientsQuery);
        var xraysBefore = TestFolder.Snapshot(h.Xrays);
        var documentsBefore = TestFolder.Snapshot(h.Documents);
        // Distinct old modification times (to the tick), which the manifest records and the restore must put back.
        var times = new Dictionary<string, DateTime>();
        var stamp = new DateTime(2024, 3, 5, 14, 30, 15, DateTimeKind.Utc).AddTicks(1234567);
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(h.Xrays)!, "*", SearchOption.AllDirectories)
            .Order())
        {
            stamp = stamp.AddMinutes(7);
            File.SetLastWriteTimeUtc(file, stamp);
            times[file] = File.GetLastWriteTimeUtc(file);
        }
        var backup = await h.CreateBackupAsync();

        await h.Database.ExecuteAsync("""
            UPDATE patients SET name = 'changed' WHERE id < 10;
            DELETE FROM appointments WHERE id > 100;
            INSERT INTO patients (name) VALUES ('added after the backup');
            CREATE TABLE created_after_backup (x int);
            """);
        File.WriteAllBytes(Path.Combine(h.Xrays, "2026", "patient-1.jpg"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(h.Xrays, "new-after-backup.jpg"), "new");
        File.Delete(Path.Combine(h.Documents, "invoice-1.pdf"));

        var result = await h.RestoreAsync(backup.Filename);

        Assert.True(result.RestoredDatabase);
        Assert.Equal(2, result.RestoredFolders.Count);
        Assert.NotNull(result.SafetyBackup);
        Assert.Equal(rowsBefore, await h.Database.RowsAsync(PatientsQuery));
        Assert.Equal(2000L, await h.Database.ScalarAsync<long>("SELECT count(*) FROM appointments"));
        Assert.Equal(0L, await h.Database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'created_after_backup'"));
        Assert.Equal(xraysBefore, TestFolder.Snapshot(h.Xrays));
        Assert.Equal(documentsBefore, TestFolder.Snapshot(h.Documents));
        foreach (var (file, time) in times) Assert.Equal(time, File.GetLastWriteTimeUtc(file));
        // No staging or old copies are left: not beside the folders, not on the server.
        Assert.Equal(["documents", "xrays"], Directory.GetFileSystemEntries(Path.GetDirectoryName(h.Xrays)!)
            .Select(Path.GetFileName).Order());
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
        Assert.False(File.Exists(Path.Combine(h.BackupDirectory, ".restore-journal.json")));
        // No temporary dump or archive is left beside the backups.
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, ".backup-*"));
        using var zip = ZipFile.OpenRead(h.PathOf(backup.Filename));
        var dump = zip.GetEntry($"db/{h.Database.Name}.dump")!;
        Assert.Equal(dumpCompressionLevel == 0, dump.CompressedLength == dump.Length);
        // The setting really reached pg_restore: one job streams in one transaction, more run in parallel from a file.
        var pgRestore = Assert.Single(commands.Messages, m => m.StartsWith("Running ") && m.Contains("pg_restore "));
        Assert.Contains(restoreJobs == 1 ? "--single-transaction" : $"--jobs={restoreJobs}", pgRestore);
        Assert.DoesNotContain(new Npgsql.NpgsqlConnectionStringBuilder(TestPostgres.AdminConnectionString).Password!,
            string.Join("\n", commands.Messages));
    }

    [Fact]
    public async Task An_archive_from_before_stored_checksums_were_recorded_still_verifies_and_restores()
    {
        // Archives made before the manifest recorded stored_crc32 (and the summary manifest_stored_crc32) carry only
        // content checksums; clinics keep them for years, so they must stay restorable.
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var rowsBefore = await h.Database.RowsAsync(PatientsQuery);
        var documentsBefore = TestFolder.Snapshot(h.Documents);
        var path = h.PathOf((await h.CreateBackupAsync()).Filename);
        var manifest = ArchiveForger.ReadManifest(path);
        Assert.Contains("stored_crc32", manifest.ToJsonString());
        ArchiveForger.Write(path, manifest, ArchiveForger.ReadEntries(path)); // the same entries, the older manifest
        Assert.DoesNotContain("stored_crc32", ArchiveForger.ReadManifest(path).ToJsonString());
        // Such archives were made here before signing existed: the new key adopts them (SignedArchiveTests).
        var summary = ArchiveSummary.ReadFromFile(path)!;
        ArchiveSummary.RewriteInFile(path, summary with { Signature = h.Get<ArchiveSigner>().Sign(summary) });

        await h.Engine.VerifyAsync(Path.GetFileName(path));
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed'");
        File.WriteAllText(Path.Combine(h.Documents, "invoice-1.pdf"), "changed");
        await h.RestoreAsync(Path.GetFileName(path));
        Assert.Equal(rowsBefore, await h.Database.RowsAsync(PatientsQuery));
        Assert.Equal(documentsBefore, TestFolder.Snapshot(h.Documents));
    }

    [Fact]
    public async Task Database_only_restore_leaves_the_files_alone_and_files_only_leaves_the_database_alone()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed' WHERE id = 1");
        File.WriteAllText(Path.Combine(h.Documents, "later.txt"), "later");

        await h.RestoreAsync(backup.Filename, BackupScope.DatabaseOnly);
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.True(File.Exists(Path.Combine(h.Documents, "later.txt")));

        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed again' WHERE id = 1");
        await h.RestoreAsync(backup.Filename, BackupScope.FilesOnly);
        Assert.False(File.Exists(Path.Combine(h.Documents, "later.txt")));
        Assert.Equal("changed again", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
    }

    [Fact]
    public async Task Database_only_and_files_only_backups_contain_only_that()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var db = await h.CreateBackupAsync(BackupScope.DatabaseOnly);
        var files = await h.CreateBackupAsync(BackupScope.FilesOnly);

        Assert.Equal([BackupContents.Database], db.Contains);
        Assert.Equal([BackupContents.Files], files.Contains);
        using (var zip = ZipFile.OpenRead(h.PathOf(db.Filename)))
            Assert.DoesNotContain(zip.Entries, e => e.FullName.StartsWith("files/", StringComparison.Ordinal));
        using (var zip = ZipFile.OpenRead(h.PathOf(files.Filename)))
            Assert.DoesNotContain(zip.Entries, e => e.FullName.StartsWith("db/", StringComparison.Ordinal));
        var error = await Assert.ThrowsAsync<BackupException>(() =>
            h.RestoreAsync(files.Filename, BackupScope.DatabaseOnly));
        Assert.Contains("contains no database", error.Message);
    }

    [Fact]
    public async Task The_archive_is_a_standard_zip_that_unzip_and_pg_restore_accept_with_a_complete_manifest()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        Assert.Matches("^backup-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}\\.zip$", backup.Filename);

        var (unzipExit, unzipOutput) = Run("unzip", "-t", h.PathOf(backup.Filename));
        Assert.True(unzipExit == 0, unzipOutput);
        Assert.Contains("No errors detected", unzipOutput);

        using var zip = ZipFile.OpenRead(h.PathOf(backup.Filename));
        var manifestEntry = zip.GetEntry("manifest.json")!;
        using var manifest = JsonDocument.Parse(manifestEntry.Open());
        var root = manifest.RootElement;
        Assert.Equal(2, root.GetProperty("format_version").GetInt32());
        Assert.Equal("manual", root.GetProperty("trigger").GetString());
        Assert.Equal("test@clinic", root.GetProperty("requested_by").GetString());
        Assert.Equal(h.Database.Name, root.GetProperty("database").GetProperty("name").GetString());
        Assert.StartsWith("15.", root.GetProperty("database").GetProperty("server_version").GetString());
        Assert.Matches("^[0-9]+\\.[0-9]+$", root.GetProperty("database").GetProperty("pg_dump_version").GetString()!);
        // 5 files, 4 folders, the dump and db/roles.sql
        Assert.Equal(11, root.GetProperty("totals").GetProperty("entries").GetInt32());

        // Every recorded SHA-256 is the SHA-256 of the entry's bytes.
        foreach (var entry in root.GetProperty("entries").EnumerateArray())
        {
            using var stream = zip.GetEntry(entry.GetProperty("path").GetString()!)!.Open();
            Assert.Equal(entry.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(stream)));
        }

        // Incompressible images are stored, text is deflated.
        var image = zip.GetEntry("files/xrays/2026/patient-1.jpg")!;
        Assert.Equal(image.Length, image.CompressedLength);
        var text = zip.GetEntry("files/documents/consent/patient-1.txt")!;
        Assert.True(text.CompressedLength < text.Length / 10);

        // The dump restores with a plain pg_restore.
        var dumpPath = Path.Combine(h.Folder.Path, "extracted.dump");
        zip.GetEntry($"db/{h.Database.Name}.dump")!.ExtractToFile(dumpPath);
        var (listExit, listing) = Run("pg_restore", "--list", dumpPath);
        Assert.True(listExit == 0, listing);
        Assert.Contains("TABLE public patients", listing);
    }

    [Fact]
    public async Task The_list_reads_the_backup_folder_and_ignores_unrelated_files()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);
        File.WriteAllText(Path.Combine(h.BackupDirectory, "notes.txt"), "not a backup");
        File.WriteAllText(Path.Combine(h.BackupDirectory, "backup-latest.zip"), "not a backup name");

        var list = await h.Engine.ListAsync();

        var only = Assert.Single(list);
        Assert.Equal(backup.Filename, only.Filename);
        Assert.Equal(new FileInfo(h.PathOf(backup.Filename)).Length, only.Size);
        Assert.Equal(BackupTrigger.Manual, only.Trigger);
        Assert.Equal([BackupContents.Files], only.Contains);
        Assert.True(only.Readable);
    }

    [Fact]
    public async Task Symlinks_are_not_followed_and_are_reported_as_warnings()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var secret = Path.Combine(h.Folder.Sub("outside"), "secret.txt");
        File.WriteAllText(secret, "outside the root");
        File.CreateSymbolicLink(Path.Combine(h.Documents, "link.txt"), secret);
        File.WriteAllText(Path.Combine(h.Documents, "real.txt"), "inside");

        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);

        Assert.Equal(1, backup.WarningCount);
        var report = await h.Engine.VerifyAsync(backup.Filename);
        Assert.Contains(report.Manifest.Warnings, w => w.Contains("Symbolic link") && w.Contains("link.txt"));
        Assert.DoesNotContain(h.EntriesOf(backup.Filename), e => e.Path.EndsWith("link.txt", StringComparison.Ordinal));
        Assert.Contains(h.EntriesOf(backup.Filename), e => e.Path == "files/documents/real.txt");
    }

    [Fact]
    public async Task A_named_pipe_in_a_folder_is_skipped_with_a_warning_instead_of_hanging_the_backup()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var pipe = Path.Combine(h.Documents, "fifo");
        var made = Run("mkfifo", pipe);
        Assert.True(made.Exit == 0, made.Output);
        File.WriteAllText(Path.Combine(h.Documents, "real.txt"), "inside");

        // Opening a FIFO for reading waits for a writer that never comes: a backup that tried would never end.
        var creating = Task.Run(() => h.CreateBackupAsync(BackupScope.FilesOnly)); // the open blocks its thread
        if (await Task.WhenAny(creating, Task.Delay(TimeSpan.FromSeconds(30))) != creating)
        {
            // lets the stuck read end, so the failure is reported instead of hanging the run
            using (File.OpenWrite(pipe)) { }
            Assert.Fail("The backup waited on the named pipe.");
        }
        var backup = await creating;

        Assert.Equal(1, backup.WarningCount);
        var report = await h.Engine.VerifyAsync(backup.Filename);
        Assert.Contains(report.Manifest.Warnings, w => w.Contains("pipe, socket or device") && w.Contains("fifo"));
        Assert.DoesNotContain(h.EntriesOf(backup.Filename), e => e.Path.EndsWith("fifo", StringComparison.Ordinal));
        Assert.Contains(h.EntriesOf(backup.Filename), e => e.Path == "files/documents/real.txt");
    }

    [Fact]
    public async Task Exclude_patterns_leave_matching_files_out()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.Exclude = ["**/*.tmp", "cache/**"],
            withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "keep.txt"), "keep");
        File.WriteAllText(Path.Combine(h.Documents, "scratch.tmp"), "skip");
        TestFolder.WriteFile(Path.Combine(h.Documents, "cache", "thumb.jpg"), [1, 2]);

        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);
        await h.Engine.VerifyAsync(backup.Filename);
        var entries = h.EntriesOf(backup.Filename).Select(e => e.Path).ToList();

        // Both folders themselves (xrays is empty), not the left-out cache folder.
        Assert.Equal(["files/xrays/", "files/documents/", "files/documents/keep.txt"], entries);
    }

    internal static (int Exit, string Output) Run(string program, params string[] arguments) =>
        StockReaders.Run(program, arguments);
}
