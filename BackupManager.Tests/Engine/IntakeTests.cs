using BackupManager.Core;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// An upload and an exact copy fetched back enter the backup folder through one intake path: each is verified in full
/// before anything is committed, and neither leaves its intake file behind, accepted or refused.
/// </summary>
public sealed class IntakeTests
{
    [Fact]
    public async Task Upload_and_exact_copy_both_verify_in_full_before_commit_and_leave_no_intake_file()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        TestFolder.WriteFile(Path.Combine(h.Xrays, "patient-1.jpg"), TestFolder.RandomBytes(200_000));
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);
        var archive = File.ReadAllBytes(h.PathOf(backup.Filename));
        await h.Engine.DeleteAsync(backup.Filename, "test");
        // One byte flipped inside the stored X-ray: the archive still opens; only reading every entry finds it.
        var damaged = (byte[])archive.Clone();
        damaged[damaged.Length / 2] ^= 0xFF;

        var upload = await Assert.ThrowsAsync<BackupException>(() =>
            h.Engine.ImportAsync(new MemoryStream(damaged), long.MaxValue, "test"));
        Assert.Equal(BackupErrorKind.Damaged, upload.Kind);
        var copy = await Assert.ThrowsAsync<BackupException>(() =>
            h.Engine.AddExactCopyAsync(backup.Filename, Rebuilt(h, damaged), "test"));
        Assert.Equal(BackupErrorKind.Damaged, copy.Kind);
        Assert.Empty(await h.Engine.ListAsync());
        AssertNoIntakeFiles(h);

        var uploaded = await h.Engine.ImportAsync(new MemoryStream(archive), long.MaxValue, "test");
        Assert.Equal((backup.Filename, BackupTrigger.Upload), (uploaded.Filename, uploaded.Trigger));
        await h.Engine.DeleteAsync(uploaded.Filename, "test");
        var copied = await h.Engine.AddExactCopyAsync(backup.Filename, Rebuilt(h, archive), "test");
        // The exact copy keeps its bytes, so it stays what it was (not marked as an upload).
        Assert.Equal((backup.Filename, backup.Trigger), (copied.Filename, copied.Trigger));
        Assert.Equal(archive, File.ReadAllBytes(h.PathOf(copied.Filename)));
        AssertNoIntakeFiles(h);
    }

    [Fact]
    public async Task A_foreign_exact_copy_to_restore_is_refused_and_kept_verified_as_a_fetch_keeps_it()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        var path = h.PathOf(backup.Filename);
        // No signature of this installation: as if another one made it.
        Core.Archive.ArchiveSummary.RewriteInFile(path,
            Core.Archive.ArchiveSummary.ReadFromFile(path)! with { Signature = null });
        var archive = File.ReadAllBytes(path);
        await h.Engine.DeleteAsync(backup.Filename, "test");
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed' WHERE id = 1");
        var request = new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test");

        var refused = await Assert.ThrowsAsync<BackupException>(() =>
            h.Engine.RestoreExactCopyAsync(Rebuilt(h, archive), request));
        Assert.Equal(BackupErrorKind.Refused, refused.Kind);
        Assert.Equal("changed", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        Assert.True(Assert.Single(await h.Engine.ListAsync()).Foreign);
        Assert.Equal(archive, File.ReadAllBytes(path));
        AssertNoIntakeFiles(h);

        // Confirmed: the same bytes are already in the folder, and that backup is restored.
        var restored = await h.Engine.RestoreExactCopyAsync(Rebuilt(h, archive), request with { AllowForeign = true });
        Assert.Equal(backup.Filename, restored.Filename);
        Npgsql.NpgsqlConnection.ClearAllPools(); // the pooled connections went with the database swapped out
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        AssertNoIntakeFiles(h);
    }

    private static string Rebuilt(EngineHarness h, byte[] content)
    {
        var path = h.Get<IBackupStore>().NewUploadPath();
        File.WriteAllBytes(path, content);
        return path;
    }

    private static void AssertNoIntakeFiles(EngineHarness h) =>
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, BackupFolderStore.UploadPrefix + "*"));
}
