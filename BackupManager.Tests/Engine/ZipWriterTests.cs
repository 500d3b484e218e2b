using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.Archive;
using BackupManager.Core.IO;
using BackupManager.Tests.Infrastructure;
using static BackupManager.Tests.Engine.RoundTripTests;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Our own zip writer must produce archives that Info-ZIP's unzip, System.IO.Compression and our structural check all
/// accept — including Zip64 (more than 65,535 entries; an entry over 4 GiB) and entries deflated ahead of time.
/// </summary>
public sealed class ZipWriterTests : IDisposable
{
    private readonly TestFolder _folder = new();
    private static readonly DateTimeOffset Modified = new(2026, 3, 4, 5, 6, 8, TimeSpan.Zero);

    [Fact]
    public async Task Stored_deflated_empty_precompressed_and_non_ascii_entries_read_back_exactly()
    {
        var random = TestFolder.RandomBytes(300_000);
        var text = Encoding.UTF8.GetBytes(
            string.Concat(Enumerable.Repeat("Patient reports sensitivity; review in six months.\n", 5000)));
        var dump = Encoding.UTF8.GetBytes(
            string.Concat(Enumerable.Repeat("COPY public.patients (id, name) FROM stdin;\n", 60000)));
        Assert.True(dump.Length > ParallelDeflateStream.DefaultChunkSize,
            "the dump must span chunks, so unzip reads them joined");
        var path = Path.Combine(_folder.Path, "mixed.zip");
        var precompressedPath = Path.Combine(_folder.Path, "dump.deflate");
        PrecompressedContent content;
        using (var sink = new PrecompressedSink(precompressedPath))
        {
            content = await PrecompressedFile.WriteAsync(sink, 1, (s, t) => s.WriteAsync(dump, t).AsTask(),
                CancellationToken.None);
            Assert.Null(sink.TryHandOff(() => new MemoryStream())); // already complete: the spill file is added whole
        }
        Assert.True(content.CompressedSize < dump.Length / 10);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(dump)), content.Sha256);

        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            var zip = new ZipWriter(output);
            await WriteEntryAsync(zip, "files/xrays/panoramic.dcm", 0, random, random.Length);
            await WriteEntryAsync(zip, "files/notes/visit.txt", 1, text, -1);
            await WriteEntryAsync(zip, "files/notes/empty.txt", 1, [], 0);
            await WriteEntryAsync(zip, "files/notes/empty-stored.jpg", 0, [], 0);
            await WriteEntryAsync(zip, "files/Zähne/Röntgen ü 歯.txt", 6, text, text.Length);
            await using (var deflated = File.OpenRead(precompressedPath))
                await zip.AddPrecompressedAsync("db/clinic.dump", Modified, content, deflated, CancellationToken.None);
            zip.Finish(Encoding.UTF8.GetBytes("a comment"));
        }

        var (exit, unzipOutput) = Run("unzip", "-t", path);
        Assert.True(exit == 0, unzipOutput);
        Assert.Contains("No errors detected", unzipOutput);
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal("a comment", archive.Comment);
            Assert.Equal(random, ReadAll(archive, "files/xrays/panoramic.dcm"));
            // stored, not deflated
            Assert.Equal(random.Length, archive.GetEntry("files/xrays/panoramic.dcm")!.CompressedLength);
            Assert.Equal(text, ReadAll(archive, "files/notes/visit.txt"));
            Assert.Empty(ReadAll(archive, "files/notes/empty.txt"));
            Assert.Empty(ReadAll(archive, "files/notes/empty-stored.jpg"));
            Assert.Equal(text, ReadAll(archive, "files/Zähne/Röntgen ü 歯.txt"));
            Assert.Equal(dump, ReadAll(archive, "db/clinic.dump"));
            var entry = archive.GetEntry("files/notes/visit.txt")!;
            Assert.Equal(Modified.DateTime, entry.LastWriteTime.DateTime);
        }
        Assert.Null(CheckStructure(path));
        // unzip recreates ordinary files: 0644, not 0000.
        var extracted = _folder.Sub("extracted");
        Assert.Equal(0, Run("unzip", "-q", path, "files/notes/visit.txt", "-d", extracted).Exit);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(Path.Combine(extracted, "files/notes/visit.txt")));
    }

    [Theory]
    [InlineData(12 << 20)] // more than the sink copies while the producer waits: copied in rounds, then switched
    [InlineData(100_000)]  // a little: copied at once and switched
    [InlineData(0)]        // nothing yet
    public async Task A_dump_handed_over_to_its_entry_mid_stream_reads_back_exactly(int spilledBeforeHandOff)
    {
        // The create path: the dump spills to a file while files are written, then its entry takes the spilled part
        // and the rest arrives straight into the archive, written by another thread.
        var first = TestFolder.RandomBytes(spilledBeforeHandOff); // random: deflate keeps its size
        var rest = Encoding.UTF8.GetBytes(
            string.Concat(Enumerable.Repeat("COPY public.invoices (id, total) FROM stdin;\n", 200_000)));
        var dump = first.Concat(rest).ToArray();
        var path = Path.Combine(_folder.Path, "handed-off.zip");
        var spill = Path.Combine(_folder.Path, "dump.spill");
        var spilled = new TaskCompletionSource();
        var handedOff = new TaskCompletionSource();
        await using (var output = new UncachedFileWriter(path))
        using (var sink = new PrecompressedSink(spill))
        {
            var zip = new ZipWriter(output, path);
            await WriteEntryAsync(zip, "files/before.txt", 1, "before"u8.ToArray(), 6);
            var producing = Task.Run(() => PrecompressedFile.WriteAsync(sink, 1, async (s, t) =>
            {
                await s.WriteAsync(first, t);
                spilled.SetResult();
                await handedOff.Task;
                for (var i = 0; i < rest.Length; i += 65_536) await s.WriteAsync(
                    rest.AsMemory(i, Math.Min(65_536, rest.Length - i)), t);
            }, CancellationToken.None));
            await spilled.Task;
            var entry = sink.TryHandOff(() => zip.OpenRawEntry("db/clinic.dump", Modified, deflated: true));
            Assert.NotNull(entry);
            Assert.True(sink.HandedOff);
            handedOff.SetResult();
            var content = await producing;
            entry.Complete(content.Crc32, content.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(dump)), content.Sha256);
            await WriteEntryAsync(zip, "manifest.json", 1, "{}"u8.ToArray(), -1);
            zip.Finish([]);
            output.Complete(flushToDisk: true);
        }
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal(dump, ReadAll(archive, "db/clinic.dump"));
            Assert.Equal("before", Encoding.UTF8.GetString(ReadAll(archive, "files/before.txt")));
        }
        Assert.Null(CheckStructure(path));
        var (exit, unzipOutput) = Run("unzip", "-tq", path);
        Assert.True(exit == 0, unzipOutput);
    }

    [Fact]
    public async Task More_than_65535_entries_use_zip64_end_records_that_every_reader_accepts()
    {
        var path = Path.Combine(_folder.Path, "many.zip");
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            var zip = new ZipWriter(output);
            for (var i = 0; i < 70_000; i++)
                await WriteEntryAsync(zip, $"files/notes/{i / 1000}/note-{i}.txt", i % 2,
                    Encoding.UTF8.GetBytes($"note {i}"), -1);
            zip.Finish([]);
        }
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal(70_000, archive.Entries.Count);
            Assert.Equal("note 69999", Encoding.UTF8.GetString(ReadAll(archive, "files/notes/69/note-69999.txt")));
        }
        Assert.Null(CheckStructure(path));
        var (exit, unzipOutput) = Run("unzip", "-tq", path);
        Assert.True(exit == 0, unzipOutput[..Math.Min(unzipOutput.Length, 2000)]);
    }

    [Fact]
    public async Task An_entry_larger_than_4_GiB_is_recorded_with_zip64_sizes()
    {
        const long size = (4L << 30) + 12345; // zeros deflate to a few MB, so the file stays small
        var path = Path.Combine(_folder.Path, "big.zip");
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            var zip = new ZipWriter(output);
            await using (var entry = zip.OpenEntry("db/large.dump", Modified, 1, expectedSize: -1))
            {
                var zeros = new byte[1 << 20];
                for (var written = 0L; written < size; written += zeros.Length)
                    entry.Write(zeros, 0, (int)Math.Min(zeros.Length, size - written));
            }
            await WriteEntryAsync(zip, "manifest.json", 1, "{}"u8.ToArray(), -1);
            zip.Finish([]);
        }
        Assert.True(new FileInfo(path).Length < 100 << 20);
        using (var archive = ZipFile.OpenRead(path))
        {
            var entry = archive.GetEntry("db/large.dump")!;
            Assert.Equal(size, entry.Length);
            Assert.Equal("{}", Encoding.UTF8.GetString(ReadAll(archive, "manifest.json")));
        }
        Assert.Null(CheckStructure(path));
        var (exit, unzipOutput) = Run("unzip", "-tq", path);
        Assert.True(exit == 0, unzipOutput);
    }

    [Fact]
    public async Task Entries_that_start_past_4_GiB_get_zip64_offsets_that_every_reader_accepts()
    {
        // Found by the large benchmark: an archive over 4 GiB whose later entries need a Zip64 offset.
        const long size = (4L << 30) + (1 << 20);
        var path = Path.Combine(_folder.Path, "long.zip");
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            1 << 20))
        {
            using var zip = new ZipWriter(output);
            await using (var entry = zip.OpenEntry("files/xrays/scan.dcm", Modified, 0, size))
            {
                var block = new byte[1 << 20];
                for (var written = 0L; written < size; written += block.Length) entry.Write(block);
            }
            await WriteEntryAsync(zip, "files/xrays/after.txt", 1, "after"u8.ToArray(), 5);
            await WriteEntryAsync(zip, "manifest.json", 1, "{}"u8.ToArray(), -1);
            zip.Finish([]);
        }
        Assert.True(new FileInfo(path).Length > 4L << 30);
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal(size, archive.GetEntry("files/xrays/scan.dcm")!.Length);
            Assert.Equal("after", Encoding.UTF8.GetString(ReadAll(archive, "files/xrays/after.txt")));
            Assert.Equal("{}", Encoding.UTF8.GetString(ReadAll(archive, "manifest.json")));
        }
        Assert.Null(CheckStructure(path));
        var (exit, unzipOutput) = Run("unzip", "-tq", path);
        Assert.True(exit == 0, unzipOutput);
        File.Delete(path);
    }

    [Fact]
    public async Task An_entry_without_reserved_zip64_that_grows_past_4_GiB_fails_instead_of_writing_a_wrong_size()
    {
        var path = Path.Combine(_folder.Path, "grew.zip");
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite);
        var zip = new ZipWriter(output);
        var entry = zip.OpenEntry("files/grew.txt", Modified, 1, expectedSize: 10);
        var zeros = new byte[1 << 20];
        for (var written = 0L; written < 4L << 30; written += zeros.Length) entry.Write(zeros);
        var error = Assert.Throws<IOException>(entry.Dispose);
        Assert.Contains("grew past 4 GiB", error.Message);
    }

    private static async Task WriteEntryAsync(ZipWriter zip, string name, int level, byte[] content, long expectedSize)
    {
        await using var entry = zip.OpenEntry(name, Modified, level, expectedSize);
        await entry.WriteAsync(content);
    }

    private static byte[] ReadAll(ZipArchive archive, string name)
    {
        using var stream = archive.GetEntry(name)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string? CheckStructure(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        var (endRecord, _) = ArchiveSummary.FindComment(stream);
        return ZipStructure.ReadEntries(stream, ZipStructure.Locate(stream, endRecord)).Problem;
    }

    public void Dispose() => _folder.Dispose();
}
