using System.Security.Cryptography;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// Off-site copies against the real servers (s3rver checking SigV4, OpenSSH's sftp) and a folder: what is stored is
/// age files the stock CLI opens, names reveal no content hash, unchanged content is sent once, and a backup fetched
/// back is the original archive byte for byte.
/// </summary>
public sealed class OffsiteCopyTests
{
    internal static async Task<(EngineHarness Harness, string IdentityFile)> ClinicWithDestinationAsync(string kind,
        Action<DestinationOptions>? tune = null, bool asOwnerRole = true)
    {
        var keys = new TestFolder();
        EngineHarness? harness = null;
        try
        {
            var (identityFile, recipient) = TestDestinations.Key(keys);
            var escrow = TestDestinations.Key(keys).Recipient;
            harness = await EngineHarness.CreateAsync(o =>
            {
                var destination = TestDestinations.Of(kind, keys);
                tune?.Invoke(destination);
                o.Destinations["offsite"] = destination;
                o.Encryption.Recipients = [recipient, escrow];
            }, asOwnerRole: asOwnerRole);
            harness.Owns(keys);
            await harness.SeedAsync();
            return (harness, identityFile);
        }
        catch
        {
            // Nobody else holds them yet: the key folder (and the harness, once made) go here.
            if (harness is not null) await harness.DisposeAsync();
            else keys.Dispose();
            throw;
        }
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task A_copy_is_age_encrypted_listed_with_the_local_fields_and_fetched_back_byte_for_byte(string kind)
    {
        var (h, identityFile) = await ClinicWithDestinationAsync(kind);
        await using var _ = h;
        var backup = await h.CreateBackupAsync();
        var offsite = h.Get<OffsiteService>();

        var report = Assert.Single(await offsite.CopyPendingAsync());
        Assert.True(report.Succeeded, report.Error);
        Assert.Equal([backup.Filename], report.Copied);

        var listed = Assert.Single(await offsite.ListAsync("offsite"));
        Assert.Equal((backup.Filename, backup.Size, backup.CreatedAt, backup.Trigger, backup.RequestedBy,
            backup.Foreign),
            (listed.Filename, listed.Size, listed.CreatedAt, listed.Trigger, listed.RequestedBy, listed.Foreign));
        Assert.Equal(backup.Contains, listed.Contains);
        Assert.Equal(CopyState.Copied, Assert.Single(offsite.CopiesOf(backup.Filename)).State);

        // Fetch it back into an empty backup folder: the very same bytes, verified.
        var original = Sha(h.PathOf(backup.Filename));
        File.Delete(h.PathOf(backup.Filename));
        var fetched = await offsite.FetchAsync("offsite", backup.Filename, TestDestinations.Identities(identityFile),
            "test@clinic");
        Assert.Equal(backup.Filename, fetched.Filename);
        Assert.Equal(original, Sha(h.PathOf(backup.Filename)));
        Assert.False(fetched.Foreign); // the same bytes still carry this installation's signature
    }

    [Fact]
    public async Task A_large_entry_is_cut_into_pieces_sent_as_multipart_uploads_to_s3_and_comes_back_whole()
    {
        var (h, identityFile) = await ClinicWithDestinationAsync("s3");
        await using var _ = h;
        // 70 MB of incompressible scan: two pieces (64 MiB + the rest), the first of them a multipart upload of 8 MiB
        // parts.
        TestFolder.WriteFile(Path.Combine(h.Xrays, "ct", "volume.dcm"), TestFolder.RandomBytes(70_000_000));
        var backup = await h.CreateBackupAsync();
        var offsite = h.Get<OffsiteService>();
        var report = Assert.Single(await offsite.CopyPendingAsync());
        Assert.True(report.Succeeded, report.Error);
        Assert.True(report.BytesSent > 70_000_000);

        var original = Sha(h.PathOf(backup.Filename));
        File.Delete(h.PathOf(backup.Filename));
        await offsite.FetchAsync("offsite", backup.Filename, TestDestinations.Identities(identityFile), "test@clinic");
        Assert.Equal(original, Sha(h.PathOf(backup.Filename)));
        var check = await offsite.CheckAsync("offsite");
        Assert.True(check.Healthy, string.Join(" ", check.Problems));
    }

    [Fact]
    public async Task The_runbooks_fetch_by_hand_rebuilds_the_original_archive_with_age_gunzip_and_python()
    {
        var (h, identityFile) = await ClinicWithDestinationAsync("folder");
        await using var _ = h;
        var backup = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await h.Get<OffsiteService>().CopyPendingAsync()).Succeeded);
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../scripts/fetch-by-hand.sh"));
        var rebuilt = Path.Combine(h.Folder.Path, "rebuilt.zip");

        var (exit, output) = StockReaders.Run("bash", script, h.Options.Destinations["offsite"].Path!, backup.Filename,
            identityFile, rebuilt);

        Assert.True(exit == 0, output);
        Assert.Contains($"rebuilt {backup.Filename}", output);
        Assert.Equal(Sha(h.PathOf(backup.Filename)), Sha(rebuilt));
    }

    [Fact]
    public async Task An_encrypted_download_is_streamed_to_the_recipients_and_the_stock_age_gives_back_the_archive()
    {
        var (h, identityFile) = await ClinicWithDestinationAsync("folder");
        await using var _ = h;
        var backup = await h.CreateBackupAsync();
        var (content, length) = h.Get<OffsiteService>().OpenEncrypted(backup.Filename);
        var encrypted = Path.Combine(h.Folder.Path, "download.zip.age");
        await using (content)
        await using (var file = File.Create(encrypted)) await content.CopyToAsync(file);
        Assert.Equal(length, new FileInfo(encrypted).Length);

        var decrypted = Path.Combine(h.Folder.Path, "download.zip");
        var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", decrypted, encrypted);
        Assert.True(exit == 0, output);
        Assert.Equal(Sha(h.PathOf(backup.Filename)), Sha(decrypted));
    }

    [Fact]
    public async Task Retention_at_a_destination_drops_old_catalogs_and_sweeps_only_unreferenced_objects_past_grace()
    {
        var (h, identityFile) = await ClinicWithDestinationAsync("folder", d =>
            (d.KeepDaily, d.KeepWeekly, d.KeepMonthly, d.KeepLast) = (1, 0, 0, 0));
        await using var _ = h;
        var offsite = h.Get<OffsiteService>();
        var root = h.Options.Destinations["offsite"].Path!;
        var old = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var objectsOfOld = Directory.GetFiles(Path.Combine(root, "data"), "*", SearchOption.AllDirectories).ToHashSet();

        await h.Database.ExecuteAsync("UPDATE patients SET balance = balance + 1");
        await WallClock.NextSecondAsync();
        var kept = await h.CreateBackupAsync();
        var report = Assert.Single(await offsite.CopyPendingAsync());
        Assert.Equal([old.Filename], report.Removed);
        Assert.Equal([kept.Filename], (await offsite.ListAsync("offsite")).Select(b => b.Filename));
        // The old dump's object is unreferenced now but young: an upload elsewhere might still need it.
        Assert.All(objectsOfOld, f => Assert.True(File.Exists(f)));

        foreach (var f in Directory.GetFiles(Path.Combine(root, "data"), "*",
            SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-2));
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var remaining = Directory.GetFiles(Path.Combine(root, "data"), "*", SearchOption.AllDirectories).ToHashSet();
        Assert.NotEmpty(objectsOfOld.Except(remaining)); // the old dump is gone
        Assert.NotEmpty(objectsOfOld.Intersect(remaining)); // the unchanged X-rays stay: the kept backup uses them

        // What is left still restores: fetch the kept backup back.
        var original = Sha(h.PathOf(kept.Filename));
        File.Delete(h.PathOf(kept.Filename));
        await offsite.FetchAsync("offsite", kept.Filename, TestDestinations.Identities(identityFile), "test@clinic");
        Assert.Equal(original, Sha(h.PathOf(kept.Filename)));
    }

    [Fact]
    public async Task A_never_delete_destination_keeps_everything()
    {
        var (h, _) = await ClinicWithDestinationAsync("s3", d =>
            (d.KeepDaily, d.KeepWeekly, d.KeepMonthly, d.NeverDelete) = (1, 0, 0, true));
        await using var __ = h;
        var offsite = h.Get<OffsiteService>();
        await h.CreateBackupAsync();
        await offsite.CopyPendingAsync();
        await WallClock.NextSecondAsync();
        await h.CreateBackupAsync();
        var report = Assert.Single(await offsite.CopyPendingAsync());
        Assert.True(report.Succeeded, report.Error);
        Assert.Empty(report.Removed);
        Assert.Equal(2, (await offsite.ListAsync("offsite")).Count);
    }
}
