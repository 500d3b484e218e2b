using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Age;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// Unchanged content is sent once, measured where it lands (the folder, the sshd's served folder, the bucket listed
/// through s3rver's API) rather than by the copier's own byte counter: a second copy of unchanged files adds only the
/// new backup's catalog and index and the pieces of its new dump and manifest.
/// </summary>
public sealed class IncrementalCopyTests
{
    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task A_second_backup_of_unchanged_files_adds_only_its_catalog_index_dump_and_manifest(string kind)
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync(kind, d => d.KeepLast = 0);
        await using var __ = h;
        // A bigger X-ray library, so the dump is small beside it.
        for (var i = 0; i < 20; i++) TestFolder.WriteFile(Path.Combine(h.Xrays, "big", $"scan-{i}.dcm"),
            TestFolder.RandomBytes(500_000));
        var offsite = h.Get<OffsiteService>();
        var destination = h.Options.Destinations["offsite"];
        var empty = await DestinationContents.ReadAsync(destination);
        await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var afterFirst = await DestinationContents.ReadAsync(destination);
        var firstBytes = DestinationContents.Added(empty, afterFirst).Values.Sum();
        await WallClock.NextSecondAsync(); // backup names are per second
        var second = await h.CreateBackupAsync();
        var report = Assert.Single(await offsite.CopyPendingAsync());
        Assert.True(report.Succeeded, report.Error);
        var added = DestinationContents.Added(afterFirst, await DestinationContents.ReadAsync(destination));

        Assert.True(firstBytes > 10_000_000, $"the first copy stored only {firstBytes:N0} bytes");
        var addedBytes = added.Values.Sum();
        Assert.True(addedBytes < firstBytes * 0.05, $"the first copy stored {firstBytes:N0} bytes, the second "
            + $"{addedBytes:N0}: {string.Join(", ", added.Select(a => $"{a.Key} {a.Value:N0}"))}");
        var data = added.Keys.Where(k => k.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal([$"backups/{second.Filename}.index", $"backups/{second.Filename}.json"],
            added.Keys.Except(data).Order(StringComparer.Ordinal));
        // Every new data object, decrypted, is a byte range of the second archive inside its dump or its manifest.
        var sent = await EntriesSentAsync(destination, data, h.PathOf(second.Filename),
            TestDestinations.Identities(identityFile));
        static bool IsDump(string entry) => ArchivePath.IsDump(entry);
        Assert.Contains(sent, IsDump);
        Assert.All(sent, e => Assert.True(IsDump(e) || e == BackupManifest.EntryName,
            $"{e} was sent again: {string.Join(", ", sent)}"));
        Assert.True(report.BytesReused > 10_000_000, $"reused {report.BytesReused:N0}");
        // Both were made today: the destination keeps the newest of each day (KeepDaily), the server keeps both.
        Assert.Single(await offsite.ListAsync("offsite"));
        Assert.Equal(2, (await h.Engine.ListAsync()).Count);
    }

    [Fact]
    public async Task With_nothing_changed_a_copy_sends_kilobytes_and_after_one_row_under_a_mebibyte_of_the_dump()
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder", d => d.KeepLast = 0);
        await using var _ = h;
        // About 35 MB of notes in random words: text that deflates about fivefold at level 6.
        await h.Database.ExecuteAsync("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);\n"
            + "INSERT INTO notes SELECT g, w.body FROM generate_series(1, 60000) g, LATERAL (SELECT string_agg(("
            + "ARRAY['caries','molar','crown','review','pain','upper','lower','left','right','filling','x-ray',"
            + "'advice','gum','bleeding','root','canal'])[1 + floor(random() * 16)::int] || (k % 7), ' ') AS body "
            + "FROM generate_series(1, 80 + g % 2) k) w;");
        // And 6,000 letters, for a manifest of several pieces.
        for (var i = 0; i < 6000; i++) await File.WriteAllTextAsync(Path.Combine(h.Documents, $"letter-{i}.txt"),
            $"Recall letter {i}");
        var destination = h.Options.Destinations["offsite"];
        var offsite = h.Get<OffsiteService>();
        await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var afterFirst = await DestinationContents.ReadAsync(destination);
        // Nothing changed: the dump's and the manifest's heads (their times) and the manifest's end (the dump's hash).
        await WallClock.NextSecondAsync();
        var unchanged = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var afterSame = await DestinationContents.ReadAsync(destination);
        var same = DestinationContents.Added(afterFirst, afterSame)
            .Where(a => a.Key.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal)).ToList();
        var manifest = ArchiveEntries(h.PathOf(unchanged.Filename)).Single(e => e.Name == BackupManifest.EntryName);
        Assert.True(manifest.CompressedSize > 256 << 10, $"the manifest is only {manifest.CompressedSize:N0} bytes");
        Assert.True(same.Sum(a => a.Value) < 128 << 10, $"sent {same.Sum(a => a.Value):N0} bytes of data with nothing "
            + $"changed: {string.Join(", ", same.Select(a => $"{a.Value:N0}"))}");
        afterFirst = afterSame;
        await h.Database.ExecuteAsync("UPDATE notes SET body = body || ' reviewed' WHERE id = 30000");
        await WallClock.NextSecondAsync();
        var second = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);

        var added = DestinationContents.Added(afterFirst, await DestinationContents.ReadAsync(destination));
        var data = added.Where(a => a.Key.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal)).ToList();
        var dump = ArchiveEntries(h.PathOf(second.Filename)).Single(e => e.Name.EndsWith(".dump",
            StringComparison.Ordinal));
        Assert.True(dump.CompressedSize > 5_000_000, $"the dump deflated to only {dump.CompressedSize:N0} bytes");
        Assert.True(data.Sum(a => a.Value) < 1 << 20, $"sent {data.Sum(a => a.Value):N0} bytes of data for one row "
            + $"of a {dump.CompressedSize:N0}-byte dump: {string.Join(", ", data.Select(a => $"{a.Value:N0}"))}");
        // And the backup comes back whole from those pieces.
        var original = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            await File.ReadAllBytesAsync(h.PathOf(second.Filename))));
        File.Delete(h.PathOf(second.Filename));
        await offsite.FetchAsync("offsite", second.Filename, TestDestinations.Identities(identityFile), "test@clinic");
        Assert.Equal(original, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            await File.ReadAllBytesAsync(h.PathOf(second.Filename)))));
    }

    internal static IReadOnlyList<ZipStructure.Entry> ArchiveEntries(string path)
    {
        using var stream = File.OpenRead(path);
        var (endRecord, _) = ArchiveSummary.FindComment(stream);
        return ZipStructure.ReadEntries(stream, ZipStructure.Locate(stream, endRecord)).Entries;
    }

    /// <summary>The names of the archive entries whose data the stored objects <paramref name="keys"/> hold.</summary>
    private static async Task<SortedSet<string>> EntriesSentAsync(DestinationOptions destination,
        IEnumerable<string> keys, string archivePath, IReadOnlyList<AgeIdentity> identities)
    {
        var archive = await File.ReadAllBytesAsync(archivePath);
        var entries = ArchiveEntries(archivePath);
        var sent = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var (at, length) = await DestinationContents.LocateAsync(destination, key, archive, identities);
            sent.Add(entries.Single(e => at >= e.DataOffset && at + length <= e.DataOffset + e.CompressedSize).Name);
        }
        return sent;
    }
}
