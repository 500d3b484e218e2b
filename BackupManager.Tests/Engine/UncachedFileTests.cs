using BackupManager.Core.IO;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The page-cache-bypassing streams every archive goes through: the bytes on disk must be exactly the bytes written —
/// across 4 MiB pieces, after overwrites of bytes already on disk or still in the buffer, with a length that is no
/// multiple of the disk block — and reads from any offset must return the file's bytes. Both with O_DIRECT and
/// through the page cache (what a file system that refuses O_DIRECT gets).
/// </summary>
public sealed class UncachedFileTests : IDisposable
{
    private readonly TestFolder _folder = new();
    private const int Chunk = AlignedChunks.Size;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Written_bytes_and_overwrites_land_exactly_where_they_were_put(bool bypassPageCache)
    {
        var path = Path.Combine(_folder.Path, "archive.zip");
        var expected = new MemoryStream();
        var random = new Random(7);
        using (var writer = new UncachedFileWriter(path, bypassPageCache))
        {
            Assert.Equal(bypassPageCache, writer.BypassesPageCache); // the test folder's ext4 takes O_DIRECT
            // Odd-sized appends, so pieces end mid-write, to a length that is no multiple of 4096.
            while (expected.Length < 3L * Chunk + 12_345)
            {
                var piece = new byte[Math.Min(random.Next(1, 700_000), 3 * Chunk + 12_345 - (int)expected.Length)];
                random.NextBytes(piece);
                writer.Write(piece);
                expected.Write(piece);
                Assert.Equal(expected.Length, writer.Position);
            }
            // Overwrites: in the first piece (on disk), across a block boundary, across the boundary between the
            // piece on disk and the one still filling, and inside the filling piece; then appending continues.
            foreach (var offset in new long[] { 14, 4096 - 5, 2L * Chunk + 4090, 3L * Chunk - 7, 3L * Chunk + 100 })
            {
                var patch = new byte[12];
                random.NextBytes(patch);
                writer.Seek(offset, SeekOrigin.Begin);
                writer.Write(patch);
                expected.Position = offset;
                expected.Write(patch);
            }
            writer.Seek(0, SeekOrigin.End);
            var tail = new byte[777];
            random.NextBytes(tail);
            writer.Write(tail);
            expected.Position = expected.Length;
            expected.Write(tail);
            writer.Complete(flushToDisk: true);
        }
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Overwriting_past_the_end_is_refused()
    {
        using var writer = new UncachedFileWriter(Path.Combine(_folder.Path, "f"));
        writer.Write(new byte[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Position = 11);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_return_the_file_from_any_offset_sequentially_and_after_jumps(bool bypassPageCache)
    {
        var path = Path.Combine(_folder.Path, "data.bin");
        var content = TestFolder.RandomBytes(2 * Chunk + 99_999);
        File.WriteAllBytes(path, content);
        using (var reader = new UncachedFileReader(path, FileShare.Read, bypassPageCache))
        {
            Assert.Equal(bypassPageCache, reader.BypassesPageCache);
            Assert.Equal(content.Length, reader.Length);
            var copy = new MemoryStream();
            reader.CopyTo(copy, 1_000_003); // odd buffer: reads straddle pieces
            Assert.Equal(content, copy.ToArray());
            Assert.Equal(0, reader.Read(new byte[10]));

            var random = new Random(3);
            for (var i = 0; i < 200; i++)
            {
                var offset = random.NextInt64(content.Length + 10);
                var buffer = new byte[random.Next(1, 300_000)];
                reader.Position = offset;
                var read = reader.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                var available = (int)Math.Max(0, Math.Min(buffer.Length, content.Length - offset));
                Assert.Equal(available, read);
                Assert.True(buffer.AsSpan(0, read)
                    .SequenceEqual(content.AsSpan((int)Math.Min(offset, content.Length), read)), $"bytes at {offset}");
            }
        }
    }

    [Fact]
    public void Seeking_before_the_start_is_an_IOException_as_with_FileStream()
    {
        // System.IO.Compression probes short files this way and turns the IOException into "not a zip".
        var path = Path.Combine(_folder.Path, "short.zip");
        File.WriteAllBytes(path, "not a zip at all"u8.ToArray());
        using var reader = new UncachedFileReader(path);
        Assert.Throws<IOException>(() => reader.Seek(-22, SeekOrigin.End));
    }

    [Fact]
    public void A_missing_file_is_reported_as_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => new UncachedFileReader(Path.Combine(_folder.Path, "gone.jpg")));
    }

    public void Dispose() => _folder.Dispose();
}
