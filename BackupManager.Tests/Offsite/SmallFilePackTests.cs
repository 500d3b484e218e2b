using BackupManager.Core.Archive;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Age;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// Small files travel together: hundreds of notes become a few packs of up to 1 MiB (one request each instead of one
/// per note), and a new note later sends only the packs around it, not the whole folder again. Measured on what the
/// destination holds, decrypted and located in the archive.
/// </summary>
public sealed class SmallFilePackTests
{
    private const int Notes = 800;

    [Fact]
    public async Task Small_files_travel_in_a_few_packs_and_a_new_file_sends_only_the_packs_around_it()
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder", d => d.KeepLast = 0);
        await using var _ = h;
        var identities = TestDestinations.Identities(identityFile);
        var notes = Path.Combine(h.Documents, "notes");
        long notesBytes = 0;
        for (var i = 0; i < Notes; i++)
        {
            var content = TestFolder.RandomBytes(5_000 + i * 37 % 15_000);
            notesBytes += content.Length;
            TestFolder.WriteFile(Path.Combine(notes, $"note-{i:D3}.txt"), content);
        }
        var destination = h.Options.Destinations["offsite"];
        var offsite = h.Get<OffsiteService>();
        var first = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var afterFirst = await DestinationContents.ReadAsync(destination);

        var packs = await ObjectsHoldingAsync(destination, DataKeys(afterFirst.Keys), h.PathOf(first.Filename),
            identities, name => name.Contains("/notes/", StringComparison.Ordinal));
        Assert.InRange(packs.Count, 5, Notes / 10);
        Assert.All(packs, p => Assert.True(p.Length <= OffsiteFormat.MaxPackBytes + 4096,
            $"a pack of {p.Length:N0} bytes is larger than {OffsiteFormat.MaxPackBytes:N0}"));
        Assert.Equal(Notes, packs.SelectMany(p => p.Entries).Count(n => n.Contains("/notes/note-",
            StringComparison.Ordinal)));

        await WallClock.NextSecondAsync(); // backup names are per second
        TestFolder.WriteFile(Path.Combine(notes, "note-010a.txt"), TestFolder.RandomBytes(8_000));
        var second = await h.CreateBackupAsync();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var added = DestinationContents.Added(afterFirst, await DestinationContents.ReadAsync(destination));

        var resent = await ObjectsHoldingAsync(destination, DataKeys(added.Keys), h.PathOf(second.Filename),
            identities, name => name.StartsWith(ArchivePath.FilesPrefix, StringComparison.Ordinal));
        Assert.Contains(resent, p => p.Entries.Any(n => n.EndsWith("/note-010a.txt", StringComparison.Ordinal)));
        // Pack ends are random per naming key: a clean-clone run saw 5 of 28 sent again (a cascade until the ends fell
        // back into step), so the bytes bound below is what tells this from packs cut by size (about half again).
        Assert.True(resent.Count <= packs.Count / 3 + 2, $"{resent.Count} packs of {packs.Count} were sent again");
        Assert.True(resent.Sum(p => p.Length) < notesBytes / 3, $"a new note sent {resent.Sum(p => p.Length):N0} "
            + $"bytes of files again, of {notesBytes:N0}");

        // And the backup comes back byte for byte from its packs.
        var original = await File.ReadAllBytesAsync(h.PathOf(second.Filename));
        File.Delete(h.PathOf(second.Filename));
        await offsite.FetchAsync("offsite", second.Filename, identities, "test@clinic");
        Assert.Equal(original, await File.ReadAllBytesAsync(h.PathOf(second.Filename)));
    }

    [Fact]
    public async Task Packs_tile_the_archive_and_where_they_end_depends_on_the_naming_key()
    {
        var (h, _) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder");
        await using var __ = h;
        for (var i = 0; i < 300; i++) TestFolder.WriteFile(Path.Combine(h.Documents, "notes", $"note-{i:D3}.txt"),
            TestFolder.RandomBytes(5_000 + i * 37 % 15_000));
        // After a file too large to pack, a note too small for an object of its own, then one that cannot join it
        // under 1 MiB: the note stays inline in the index, and the next pack must start after it.
        var scans = Path.Combine(h.Documents, "scans");
        TestFolder.WriteFile(Path.Combine(scans, "a.dcm"), TestFolder.RandomBytes(1_200_000));
        TestFolder.WriteFile(Path.Combine(scans, "b.txt"), TestFolder.RandomBytes(500));
        TestFolder.WriteFile(Path.Combine(scans, "c.dcm"), TestFolder.RandomBytes(1_048_100));
        var backup = await h.CreateBackupAsync();
        await using var archive = File.OpenRead(h.PathOf(backup.Filename));
        byte[] key = TestFolder.RandomBytes(32), otherKey = TestFolder.RandomBytes(32);

        var plan = OffsiteFormat.Plan(archive, backup.Filename, key);
        long position = 0;
        foreach (var range in plan)
        {
            Assert.Equal(position, range.Offset);
            position += range.Length;
        }
        Assert.Equal(archive.Length, position);
        var packs = plan.Where(r => r.Pack).ToList();
        Assert.InRange(packs.Count, 3, 30);
        Assert.Equal(packs, OffsiteFormat.Plan(archive, backup.Filename, key).Where(r => r.Pack));
        Assert.NotEqual(packs, OffsiteFormat.Plan(archive, backup.Filename, otherKey).Where(r => r.Pack));
    }

    [Fact]
    public async Task The_central_directory_of_many_files_travels_as_objects_and_the_index_stays_small()
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync("folder");
        await using var __ = h;
        // About 100 bytes of central directory a file: 15,000 of them make more than 1 MiB.
        for (var i = 0; i < 15_000; i++)
            TestFolder.WriteFile(Path.Combine(h.Documents, "many", $"{i / 500:D2}", $"n-{i:D5}.txt"), [(byte)i]);
        var backup = await h.CreateBackupAsync();
        await using (var archive = File.OpenRead(h.PathOf(backup.Filename)))
        {
            var plan = OffsiteFormat.Plan(archive, backup.Filename, TestFolder.RandomBytes(32));
            var inline = plan.Where(r => !r.IsObject).ToList();
            Assert.True(inline.Sum(r => r.Length) < 64 << 10, $"{inline.Sum(r => r.Length):N0} bytes stay inline in "
                + $"the index, in {inline.Count} ranges; the largest is {inline.Max(r => r.Length):N0}");
            Assert.True(plan[^1].IsObject && plan[^1].Offset + plan[^1].Length == archive.Length);
        }

        var offsite = h.Get<OffsiteService>();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        var original = await File.ReadAllBytesAsync(h.PathOf(backup.Filename));
        File.Delete(h.PathOf(backup.Filename));
        await offsite.FetchAsync("offsite", backup.Filename, TestDestinations.Identities(identityFile), "test@clinic");
        Assert.Equal(original, await File.ReadAllBytesAsync(h.PathOf(backup.Filename)));
    }

    private static IEnumerable<string> DataKeys(IEnumerable<string> keys) =>
        keys.Where(k => k.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal));

    /// <summary>The objects among <paramref name="keys"/> whose plaintext covers an entry (header or data) that
    /// <paramref name="wanted"/> picks, each with its length and every entry it covers.</summary>
    private static async Task<List<(long Length, List<string> Entries)>> ObjectsHoldingAsync(
        DestinationOptions destination, IEnumerable<string> keys, string archivePath,
        IReadOnlyList<AgeIdentity> identities, Func<string, bool> wanted)
    {
        var archive = await File.ReadAllBytesAsync(archivePath);
        var entries = IncrementalCopyTests.ArchiveEntries(archivePath);
        // Entries follow each other: each one's header starts where the one before it ended.
        var spans = entries.Select((e, i) => (e.Name, Start: i == 0 ? 0 : entries[i - 1].DataOffset
            + entries[i - 1].CompressedSize, End: e.DataOffset + e.CompressedSize)).ToList();
        var found = new List<(long, List<string>)>();
        foreach (var key in keys)
        {
            var (at, length) = await DestinationContents.LocateAsync(destination, key, archive, identities);
            var covered = spans.Where(s => s.Start < at + length && s.End > at).Select(s => s.Name).ToList();
            if (covered.Any(wanted)) found.Add((length, covered));
        }
        return found;
    }
}
