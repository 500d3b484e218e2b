using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using static BackupManager.Tests.Infrastructure.ArchiveForger;

namespace BackupManager.Tests.Engine;

/// <summary>Damaged or malicious archives are refused by verify and by restore, and a refused restore changes
/// nothing.</summary>
public sealed class DamagedArchiveTests
{
    private sealed record LiveState(List<string> Rows, SortedDictionary<string, string> Xrays, SortedDictionary<string,
        string> Documents, int BackupCount);

    private static async Task<LiveState> CaptureAsync(EngineHarness h) => new(
        await h.Database.RowsAsync("SELECT id, name FROM patients ORDER BY id"),
        TestFolder.Snapshot(h.Xrays), TestFolder.Snapshot(h.Documents), (await h.Engine.ListAsync()).Count);

    /// <summary>Makes a backup, changes the live state, applies <paramref name="damage"/> and returns the backup's
    /// name.</summary>
    private static async Task<string> DamagedBackupAsync(EngineHarness h, Action<string> damage)
    {
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'live state' WHERE id = 1");
        File.WriteAllText(Path.Combine(h.Documents, "live.txt"), "live");
        damage(h.PathOf(backup.Filename));
        return backup.Filename;
    }

    private static async Task AssertRefusedAndNothingChangedAsync(EngineHarness h, string filename,
        string expectedInMessage)
    {
        var before = await CaptureAsync(h);
        var verify = await Assert.ThrowsAsync<BackupException>(() => h.Engine.VerifyAsync(filename));
        Assert.Equal(BackupErrorKind.Damaged, verify.Kind);
        Assert.Contains(expectedInMessage, verify.Message);

        var restore = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(filename));
        Assert.Equal(BackupErrorKind.Damaged, restore.Kind);
        var after = await CaptureAsync(h);
        Assert.Equal(before.Rows, after.Rows);
        Assert.Equal(before.Xrays, after.Xrays);
        Assert.Equal(before.Documents, after.Documents);
        Assert.Equal(before.BackupCount, after.BackupCount); // refused before the safety backup: nothing was written
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    /// <summary>Where each entry of an archive's bytes lies, as the reader's structure check finds it.</summary>
    private static IReadOnlyList<Core.Archive.ZipStructure.Entry> EntriesOf(byte[] archive)
    {
        using var stream = new MemoryStream(archive);
        var (endRecord, _) = Core.Archive.ArchiveSummary.FindComment(stream);
        return Core.Archive.ZipStructure.ReadEntries(stream, Core.Archive.ZipStructure.Locate(stream, endRecord))
            .Entries;
    }

    /// <summary>A full backup of the seeded harness: its path and bytes.</summary>
    private static async Task<(string Path, byte[] Bytes)> FullBackupAsync(EngineHarness h)
    {
        await h.SeedAsync();
        var path = h.PathOf((await h.CreateBackupAsync()).Filename);
        return (path, await File.ReadAllBytesAsync(path));
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> with bit <paramref name="bit"/> of the byte
    /// at <paramref name="offset"/> flipped; leaves <paramref name="bytes"/> as it was.</summary>
    private static async Task WriteWithBitFlippedAsync(string path, byte[] bytes, long offset, int bit)
    {
        bytes[offset] ^= (byte)(1 << bit);
        try { await File.WriteAllBytesAsync(path, bytes); }
        finally { bytes[offset] ^= (byte)(1 << bit); }
    }

    [Fact]
    public async Task A_flipped_byte_inside_an_entry_is_found_and_named()
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
        {
            // The stored X-ray's bytes sit verbatim in the file: flip one in its middle.
            var bytes = File.ReadAllBytes(path);
            var image = File.ReadAllBytes(Path.Combine(h.Xrays, "2026", "patient-1.jpg"));
            var at = bytes.AsSpan().IndexOf(image.AsSpan(1000, 64));
            Assert.True(at > 0);
            bytes[at + 10] ^= 0xFF;
            File.WriteAllBytes(path, bytes);
        });
        await AssertRefusedAndNothingChangedAsync(h, filename, "files/xrays/2026/patient-1.jpg");
    }

    [Fact]
    public async Task No_single_bit_flip_anywhere_in_an_archive_goes_unnoticed()
    {
        // Tiny files keep the archive small enough to flip a bit in every one of its bytes: headers, names,
        // directory, end record and comment included, not only entry contents.
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllText(Path.Combine(h.Xrays, "a.jpg"), "x-ray");
        TestFolder.WriteFile(Path.Combine(h.Documents, "consent", "patient-1.txt"), "I consent"u8.ToArray());
        File.WriteAllText(Path.Combine(h.Documents, "empty.txt"), "");
        var path = h.PathOf((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename);
        var bytes = await File.ReadAllBytesAsync(path);
        var unnoticed = new List<string>();
        for (var offset = 0; offset < bytes.Length; offset++)
        {
            await WriteWithBitFlippedAsync(path, bytes, offset, offset % 8);
            try
            {
                await h.Engine.VerifyAsync(Path.GetFileName(path));
                unnoticed.Add($"{offset} (bit {offset % 8})");
            }
            catch (BackupException e) when (e.Kind == BackupErrorKind.Damaged) { }
        }
        Assert.True(unnoticed.Count == 0,
            $"{bytes.Length}-byte archive: flips at offsets {string.Join(", ", unnoticed)} passed verification");
    }

    [Fact]
    public async Task Damage_that_leaves_a_deflated_entry_decoding_to_the_same_content_is_still_refused()
    {
        // The last byte of a deflate stream holds padding bits the decoder ignores: only the stored bytes' CRC-32 in
        // the manifest notices them. Checked for every deflated entry of a full backup, the streamed dump included.
        await using var h = await EngineHarness.CreateAsync();
        var (path, bytes) = await FullBackupAsync(h);
        var deflated = EntriesOf(bytes).Where(e => e.Deflated).ToList();
        Assert.Contains(deflated, e => e.Name.StartsWith("db/", StringComparison.Ordinal));
        Assert.Contains(deflated, e => e.Name.StartsWith("files/documents/", StringComparison.Ordinal));
        Assert.Contains(deflated, e => e.Name == BackupManifest.EntryName);
        foreach (var entry in deflated)
            for (var bit = 0; bit < 8; bit++)
            {
                await WriteWithBitFlippedAsync(path, bytes, entry.DataOffset + entry.CompressedSize - 1, bit);
                var error = await Assert.ThrowsAsync<BackupException>(() =>
                    h.Engine.VerifyAsync(Path.GetFileName(path)));
                Assert.True(error.Kind == BackupErrorKind.Damaged, $"{entry.Name}, bit {bit}: {error.Message}");
            }
    }

    [Fact]
    public async Task A_wrong_content_CRC_in_the_zip_headers_is_refused_even_when_the_archive_is_resealed()
    {
        // unzip checks the content CRC-32 in the headers; an archive whose CRC is wrong there cannot be restored by
        // hand, so verify must say so even when directory checksum and summary were recomputed around it.
        await using var h = await EngineHarness.CreateAsync();
        var (path, bytes) = await FullBackupAsync(h);
        const string name = "files/documents/invoice-1.pdf";
        var entry = EntriesOf(bytes).Single(e => e.Name == name);
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        var local = Enumerable.Range(0, (int)entry.DataOffset).Last(i =>
            BitConverter.ToUInt32(bytes, i) == 0x04034b50u && bytes.AsSpan(i + 30, nameBytes.Length)
                .SequenceEqual(nameBytes));
        Assert.Equal(0x04034b50u, BitConverter.ToUInt32(bytes, local));
        var central = Enumerable.Range(0, bytes.Length - 46 - nameBytes.Length).Single(i =>
            BitConverter.ToUInt32(bytes, i) == 0x02014b50u && bytes.AsSpan(i + 46, nameBytes.Length)
                .SequenceEqual(nameBytes));
        bytes[local + 14] ^= 0x01; // the CRC in the local header and in the central directory, alike
        bytes[central + 16] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);
        Core.Archive.ArchiveSummary.SealFile(path, Core.Archive.ArchiveSummary.ReadFromFile(path)!);
        Assert.NotEqual(0, RoundTripTests.Run("unzip", "-tq", path).Exit);

        var error = await Assert.ThrowsAsync<BackupException>(() => h.Engine.VerifyAsync(Path.GetFileName(path)));
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.Contains($"'{name}' does not match the CRC-32 in its zip headers", error.Message);
    }

    [Theory]
    // never put back by a restore, so only a check of every entry finds it
    [InlineData("db/roles.sql", BackupScope.Full)]
    [InlineData("dump", BackupScope.FilesOnly)]       // a files-only restore does not read the dump
    public async Task Damage_in_an_entry_the_restore_does_not_put_back_still_stops_the_restore(
        string damaged, BackupScope scope)
    {
        await using var h = await EngineHarness.CreateAsync();
        var (path, bytes) = await FullBackupAsync(h);
        var entry = EntriesOf(bytes).Single(e => damaged == "dump" ? e.Name.EndsWith(".dump", StringComparison.Ordinal)
            : e.Name == damaged);
        await WriteWithBitFlippedAsync(path, bytes, entry.DataOffset + entry.CompressedSize / 2, 3);
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'live state' WHERE id = 1");
        File.WriteAllText(Path.Combine(h.Documents, "live.txt"), "live");
        var before = await CaptureAsync(h);

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(Path.GetFileName(path), scope));

        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        var after = await CaptureAsync(h);
        Assert.Equal(before.Rows, after.Rows);
        Assert.Equal(before.Documents, after.Documents);
        Assert.Equal(before.BackupCount, after.BackupCount);
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task A_truncated_archive_is_refused()
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
        {
            using var stream = new FileStream(path, FileMode.Open);
            stream.SetLength(stream.Length / 2);
        });
        await AssertRefusedAndNothingChangedAsync(h, filename, "not a readable zip");
    }

    [Fact]
    public async Task An_edited_manifest_is_refused()
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
            Write(path, ReadManifest(path), ReadEntries(path), m => { m["requested_by"] = "someone else"; return m; }));
        await AssertRefusedAndNothingChangedAsync(h, filename, "manifest.json does not match");
    }

    [Fact]
    public async Task Content_swapped_with_a_recomputed_manifest_still_needs_a_matching_checksum()
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
        {
            // Keep the original manifest's hashes but replace one entry's content.
            var manifest = ReadManifest(path);
            var entries = ReadEntries(path)
                .Select(e => e.Name.EndsWith("patient-2.png", StringComparison.Ordinal)
                ? e with { Content = new byte[e.Content.Length] } : e).ToList();
            Write(path, manifest, entries, m =>
                { m["entries"] = ReadManifest(path)["entries"]!.DeepClone(); return m; });
        });
        await AssertRefusedAndNothingChangedAsync(h, filename, "manifest.json does not match");
    }

    [Fact]
    public async Task A_duplicated_entry_is_refused()
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
        {
            var entries = ReadEntries(path);
            Write(path, ReadManifest(path), [.. entries, entries.Last()]);
        });
        await AssertRefusedAndNothingChangedAsync(h, filename, "appears twice");
    }

    [Theory]
    [InlineData("files/xrays/../../../escaped.txt")]
    [InlineData("files/xrays/sub/../../../escaped.txt")]
    [InlineData("/tmp/escaped.txt")]
    [InlineData("files/xrays/..\\..\\escaped.txt")]
    [InlineData("files/../escaped.txt")]
    [InlineData("db/../../escaped.dump")]
    [InlineData("escaped.txt")]
    public async Task Entries_that_would_land_outside_their_folder_are_refused_before_anything_is_written(
        string evilName)
    {
        await using var h = await EngineHarness.CreateAsync();
        var filename = await DamagedBackupAsync(h, path =>
            Write(path, ReadManifest(path), [.. ReadEntries(path), new ForgedEntry(evilName, "pwned"u8.ToArray())]));

        await AssertRefusedAndNothingChangedAsync(h, filename, "");
        foreach (var candidate in new[] { "/tmp/escaped.txt", Path.Combine(h.Folder.Path, "escaped.txt"),
            Path.Combine(h.Folder.Path, "clinic", "escaped.txt"), Path.Combine(h.BackupDirectory, "escaped.txt") })
            Assert.False(File.Exists(candidate), candidate);
    }

    [Fact]
    public async Task A_zip_that_is_not_a_BackupManager_archive_is_refused_with_a_clear_message()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var path = Path.Combine(h.BackupDirectory, "backup-2026-01-01-00-00-00.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            using (var s = zip.CreateEntry("photo.jpg").Open()) s.Write([1, 2, 3]);

        var error = await Assert.ThrowsAsync<BackupException>(() =>
            h.Engine.VerifyAsync("backup-2026-01-01-00-00-00.zip"));
        Assert.Contains("not a BackupManager archive", error.Message);
        Assert.False(Assert.Single(await h.Engine.ListAsync()).Readable);
    }
}
