using System.IO.Compression;
using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>An open archive costs the same memory whatever its number of files: its directory and its manifest's
/// entries wait in spill files (a clinic with 200,000 files went past 330 MB to verify when both were held).</summary>
[Collection(RunsAloneCollection.Name)] // measures the whole managed heap
public sealed class ReaderMemoryTests : IDisposable
{
    private const int Folders = 120_000;
    private readonly TestFolder _folder = new();

    [Fact]
    public async Task Opening_an_archive_of_120000_entries_holds_under_8_MB_and_every_entry_still_checks()
    {
        var path = await WriteAsync();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var archive = BackupArchiveReader.Open(path);
        using var sibling = archive.OpenSibling();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;

        // Before the spill files the same archive held 76.5 MB here (its directory and its manifest as objects).
        Assert.True(held < 8 << 20, $"an open reader of {Folders:N0} entries holds {held / 1e6:F1} MB");
        Assert.Equal(Folders + 1, archive.Manifest.Entries.Count);
        Assert.Equal(Folders + 1, sibling.Manifest.Entries.Count(e => e.IsDirectory || e.Size == 5));
        var report = await sibling.VerifyAsync(null, CancellationToken.None);
        Assert.Equal(Folders + 1, report.Entries);
        await using (var note = archive.OpenVerified(archive.Manifest.Entries.Last()))
            Assert.Equal("hello"u8.ToArray(), await ReadAllAsync(note));
        StockReaders.AssertReadable(path);
    }

    private async Task<string> WriteAsync()
    {
        var path = Path.Combine(_folder.Path, BackupFileName.For(DateTimeOffset.UtcNow));
        var at = DateTimeOffset.UtcNow;
        var folder = new ZipEntryAttributes(0x41ED);
        await TestArchives.WriteAsync(path, new BackupManifest
        {
            CreatedAt = at,
            Contains = [BackupContents.Files],
            Roots = [new ManifestRoot("xrays", "/srv/xrays", 1, 5)],
        }, async writer =>
        {
            for (var i = 0; i < Folders; i++)
                writer.AddDirectory($"files/xrays/patient-{i:D6}/visits-of-the-year-{2000 + i % 26}/", at, folder);
            await writer.AddAsync("files/xrays/last-note.txt", CompressionLevel.Fastest, at, 5,
                (stream, token) => stream.WriteAsync("hello"u8.ToArray(), token).AsTask(), CancellationToken.None);
        });
        return path;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray();
    }

    public void Dispose() => _folder.Dispose();
}
