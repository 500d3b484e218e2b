using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>A second reader of an open archive (what a restore's folders and a read-back's files use) reads the file
/// that was checked, with the manifest that was checked, however the path and the first reader fare.</summary>
public sealed class SiblingReaderTests
{
    [Fact]
    public async Task A_sibling_reads_the_checked_file_after_its_path_names_another_and_the_first_reader_is_gone()
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        File.WriteAllBytes(Path.Combine(h.Xrays, "a.jpg"), TestFolder.RandomBytes(300_000));
        var first = h.PathOf((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename);
        File.WriteAllBytes(Path.Combine(h.Xrays, "a.jpg"), TestFolder.RandomBytes(300_000));
        var second = h.PathOf((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename);

        var reader = BackupArchiveReader.Open(first);
        File.Move(second, first, overwrite: true); // the path now names another backup of the same files
        using var sibling = reader.OpenSibling();
        Assert.Same(reader.Manifest, sibling.Manifest); // held once, not parsed again
        reader.Dispose();

        var report = await sibling.VerifyAsync(null, CancellationToken.None);
        Assert.Equal(sibling.Manifest.Entries.Count, report.Entries);
        Assert.Throws<ObjectDisposedException>(() => reader.OpenSibling());
    }
}
