using System.Security.Cryptography;
using BackupManager.Core;
using BackupManager.Core.Offsite;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// A restore from a destination reads the rebuilt archive once: objects are fetched several at once and written in
/// order, the restore verifies every entry while it stages, and only then does the copy join the backup folder. A
/// damaged archive is never restored and never listed, and a plain fetch still verifies in full before it commits.
/// </summary>
public sealed class FetchAndRestoreTests
{
    private const int MiB = 1 << 20;

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task Objects_fetched_several_at_once_rebuild_the_archive_byte_for_byte_and_restore_it(string kind)
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync(kind, d => d.Parallel = 3);
        await using var _ = h;
        // Many objects of many sizes: chunk-sized, just over, several chunks, small.
        foreach (var (size, i) in new[] { MiB, MiB + 1, 3 * MiB + 5, 40_000, 2 * MiB }.Select((s, i) => (s, i)))
            TestFolder.WriteFile(Path.Combine(h.Xrays, "scans", $"scan-{i}.jpg"), TestFolder.RandomBytes(size));
        var backup = await h.CreateBackupAsync();
        var offsite = h.Get<OffsiteService>();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var original = Sha(h.PathOf(backup.Filename));
        var scan = File.ReadAllBytes(Path.Combine(h.Xrays, "scans", "scan-2.jpg"));
        File.Delete(h.PathOf(backup.Filename));
        Directory.Delete(Path.Combine(h.Xrays, "scans"), recursive: true);
        await h.Database.ExecuteAsync("DELETE FROM appointments");

        var result = await offsite.FetchAndRestoreAsync("offsite", TestDestinations.Identities(identityFile),
            new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test@clinic"));

        Assert.True(result.RestoredDatabase);
        Assert.Equal(original, Sha(h.PathOf(backup.Filename)));
        Assert.Contains(await h.Engine.ListAsync(), b => b.Filename == backup.Filename);
        Assert.Equal(scan, File.ReadAllBytes(Path.Combine(h.Xrays, "scans", "scan-2.jpg")));
        Npgsql.NpgsqlConnection.ClearAllPools(); // the pooled connections went with the database swapped out
        Assert.Equal(["2000"], await h.Database.RowsAsync("SELECT count(*) FROM appointments"));
        AssertNoIntakeFiles(h);
    }

    [Fact]
    public async Task A_damaged_archive_at_the_destination_is_never_restored_never_listed_and_a_fetch_refuses_it()
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder");
        await using var _ = h;
        var xray = TestFolder.RandomBytes(3 * MiB);
        TestFolder.WriteFile(Path.Combine(h.Xrays, "big.jpg"), xray);
        var backup = await h.CreateBackupAsync();
        // One byte flipped inside the stored X-ray before the copy: every object matches the index, the archive opens,
        // and only reading the entry finds the damage.
        var archive = File.ReadAllBytes(h.PathOf(backup.Filename));
        var at = archive.AsSpan().IndexOf(xray.AsSpan(2 * MiB, 64)) + 10;
        Assert.True(at > 10);
        archive[at] ^= 0xFF;
        File.WriteAllBytes(h.PathOf(backup.Filename), archive);
        var offsite = h.Get<OffsiteService>();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        File.Delete(h.PathOf(backup.Filename));
        // Live state after the backup, which a restore would replace.
        File.WriteAllText(Path.Combine(h.Xrays, "after.txt"), "kept");
        await h.Database.ExecuteAsync("DELETE FROM appointments");

        var refused = await Assert.ThrowsAsync<BackupException>(() => offsite.FetchAndRestoreAsync("offsite",
            TestDestinations.Identities(identityFile),
            new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test@clinic")));

        Assert.Equal(BackupErrorKind.Damaged, refused.Kind);
        Assert.Contains("big.jpg", refused.Message);
        Assert.Empty(await h.Engine.ListAsync());
        AssertNoIntakeFiles(h);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(h.Xrays, "after.txt")));
        Assert.Equal(["0"], await h.Database.RowsAsync("SELECT count(*) FROM appointments"));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(h.Xrays)!, ".*bm-*"));

        var fetch = await Assert.ThrowsAsync<BackupException>(() => offsite.FetchAsync("offsite", backup.Filename,
            TestDestinations.Identities(identityFile), "test@clinic"));
        Assert.Equal(BackupErrorKind.Damaged, fetch.Kind);
        Assert.Empty(await h.Engine.ListAsync());
        AssertNoIntakeFiles(h);
    }

    [Fact]
    public async Task A_naming_key_that_cannot_be_saved_after_the_swap_leaves_the_restore_succeeded()
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder");
        await using var _ = h;
        var backup = await h.CreateBackupAsync();
        var offsite = h.Get<OffsiteService>();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        File.Delete(h.PathOf(backup.Filename));
        // As on a new server lacking the key, whose folder refuses it (a directory in its place): adopting it fails
        // after the restore swapped, which must cost only the next copy a full upload, not the restore its success.
        var key = Path.Combine(h.BackupDirectory, OffsiteContext.NamingKeyFileName);
        File.Delete(key);
        Directory.CreateDirectory(key);

        var result = await offsite.FetchAndRestoreAsync("offsite", TestDestinations.Identities(identityFile),
            new RestoreBackupRequest(backup.Filename, BackupScope.Full, "test@clinic"));

        Assert.True(result.RestoredDatabase);
        Assert.Contains(await h.Engine.ListAsync(), b => b.Filename == backup.Filename);
        Assert.True(Directory.Exists(key));
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static void AssertNoIntakeFiles(EngineHarness h) =>
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, BackupFolderStore.UploadPrefix + "*"));
}
