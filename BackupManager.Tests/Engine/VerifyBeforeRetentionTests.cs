using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>Retention deletes nothing until the new archive has been read back and verified in full.</summary>
public sealed class VerifyBeforeRetentionTests
{
    [Fact]
    public async Task A_new_backup_that_does_not_read_back_is_never_kept_and_the_only_good_backup_stays()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 1);
        var committed = h.Get<BackupCommitted>();
        await h.SeedAsync();
        var good = await h.CreateBackupAsync();
        Assert.True(await WasCommittedAsync(committed));

        var engine = (BackupService)h.Engine;
        string? corrupted = null;
        // As a failing disk would: the bytes read back are not the bytes written.
        engine.BeforeReadBack = path => FlipOneBit(corrupted = path);
        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync());
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.Contains("did not read back correctly: ", error.Message);
        Assert.Contains("It was not kept and no older backup was removed.", error.Message);
        Assert.Contains("check the system log (dmesg)", error.Message);
        Assert.False(File.Exists(corrupted), "the archive that failed its read-back was left behind");
        Assert.False(await WasCommittedAsync(committed), "the off-site copier was told of a damaged backup");

        var list = await h.Engine.ListAsync();
        Assert.Equal([good.Filename], list.Select(b => b.Filename));
        await h.Engine.VerifyAsync(good.Filename);

        // With a healthy disk the next create succeeds and only then replaces the old one (MAX_BACKUPS=1).
        engine.BeforeReadBack = null;
        var next = await h.CreateBackupAsync();
        Assert.Equal([next.Filename], (await h.Engine.ListAsync()).Select(b => b.Filename));
    }

    [Theory]
    [InlineData("patient-1.jpg", false)] // stored as it is
    [InlineData("consent/patient-1.txt", true)] // deflated: decoded, then checked
    public async Task The_read_back_finds_one_flipped_bit_in_a_stored_or_a_compressed_entry(string file, bool deflated)
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var engine = (BackupService)h.Engine;
        string? damaged = null;
        engine.BeforeReadBack = path =>
        {
            var entry = EntriesOf(path).Single(e => e.Name.EndsWith("/" + file, StringComparison.Ordinal));
            Assert.Equal(deflated, entry.Deflated);
            damaged = entry.Name;
            FlipOneBit(path, entry.DataOffset + entry.CompressedSize / 2);
        };
        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync());
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.StartsWith($"The new backup did not read back correctly: the entry '{damaged}' does not match the "
            + "CRC-32 in its zip headers", error.Message);
        Assert.DoesNotContain(".tmp", error.Message); // the operator never sees a temp file's name
        Assert.Empty(await h.Engine.ListAsync());
        Assert.Empty(Directory.GetFiles(h.BackupDirectory, ".backup-*"));
    }

    [Fact]
    public async Task A_read_back_that_fails_to_read_says_so_without_a_temp_file_name()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllText(Path.Combine(h.Xrays, "a.jpg"), "x-ray");
        var engine = (BackupService)h.Engine;
        engine.BeforeReadBack = File.Delete; // what reading it meets is an I/O error, as from a failing disk
        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync(BackupScope.FilesOnly));
        Assert.Equal(BackupErrorKind.Environment, error.Kind);
        Assert.StartsWith("The new backup did not read back correctly: reading it failed (", error.Message);
        Assert.Contains("It was not kept and no older backup was removed.", error.Message);
        Assert.DoesNotContain(".tmp", error.Message);
        Assert.Empty(await h.Engine.ListAsync());
    }

    private static IReadOnlyList<Core.Archive.ZipStructure.Entry> EntriesOf(string path)
    {
        using var stream = File.OpenRead(path);
        var (endRecord, _) = Core.Archive.ArchiveSummary.FindComment(stream);
        return Core.Archive.ZipStructure.ReadEntries(stream, Core.Archive.ZipStructure.Locate(stream, endRecord))
            .Entries;
    }

    private static Task<bool> WasCommittedAsync(BackupCommitted committed) =>
        committed.WaitAsync(TimeSpan.FromMilliseconds(100), TimeProvider.System, CancellationToken.None);

    private static void FlipOneBit(string path, long? at = null)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = at ?? file.Length / 3;
        var b = file.ReadByte();
        file.Position--;
        file.WriteByte((byte)(b ^ 0x10));
    }
}
