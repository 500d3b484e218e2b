using System.IO.Compression;
using System.IO.Hashing;
using System.Security.Cryptography;
using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Every deflate stream the engine writes ends with its final block, and verify judges deflate streams as strictly as
/// unzip and Python do: no final block, or bytes after it, is damage. Sizes at and around the parallel deflater's
/// chunk boundaries are where an empty last chunk used to leave the stream unterminated.
/// </summary>
public sealed class StrictDeflateTests : IDisposable
{
    private const int Chunk = ParallelDeflateStream.DefaultChunkSize;
    private readonly TestFolder _folder = new();

    public static TheoryData<int, bool> SizesAndWays()
    {
        var data = new TheoryData<int, bool>();
        foreach (var size in new[] { 0, 1, Chunk - 1, Chunk, Chunk + 1, 3 * Chunk - 1, 3 * Chunk, 3 * Chunk + 1 })
        {
            data.Add(size, false);
            if (size is 0 or Chunk or 3 * Chunk) data.Add(size, true);
        }
        return data;
    }

    /// <summary><paramref name="streamed"/>: the entry is written as the dump's is when it streams in (Zip64 sizes
    /// reserved).</summary>
    [Theory]
    [MemberData(nameof(SizesAndWays))]
    public async Task A_dump_of_any_size_ends_with_a_final_block_and_every_reader_accepts_it(int size, bool streamed)
    {
        var dump = Content(size);
        var path = await WriteArchiveAsync(dump, DeflateInParallel, streamed);
        using (var archive = BackupArchiveReader.Open(path))
            await archive.VerifyAsync(null, CancellationToken.None);
        StockReaders.AssertReadable(path);
        Assert.Equal(dump, await ReadDumpAsync(path));
    }

    [Fact]
    public async Task A_deflate_stream_without_a_final_block_fails_verify_as_it_fails_unzip()
    {
        var dump = Content(Chunk);
        var path = await WriteArchiveAsync(dump, data => Deflate(data, final: false));
        var error = await Assert.ThrowsAsync<BackupException>(() => VerifyAsync(path));
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.Contains("ends without a final block", error.Message);
        Assert.NotNull(StockReaders.Problem(path)); // the stock readers agree
    }

    [Fact]
    public async Task Bytes_after_the_final_block_fail_verify()
    {
        var path = await WriteArchiveAsync(Content(100_000), data => [.. Deflate(data, final: true), 0x00, 0x01, 0x02]);
        var error = await Assert.ThrowsAsync<BackupException>(() => VerifyAsync(path));
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.Contains("3 byte(s) follow the end of its deflate stream", error.Message);
    }

    [Fact]
    public void The_strict_inflater_accepts_complete_streams_and_names_each_defect()
    {
        var data = Content(300_000);
        var complete = Deflate(data, final: true);
        Assert.Equal(data, Inflate(complete));
        Assert.Empty(Inflate(ParallelDeflateStream.EmptyFinalBlock.ToArray()));
        Assert.Contains("without a final block", Assert.Throws<InvalidDataException>(() => Inflate([])).Message);
        Assert.Contains("without a final block",
            Assert.Throws<InvalidDataException>(() => Inflate(complete[..(complete.Length / 2)])).Message);
        Assert.Contains("without a final block",
            Assert.Throws<InvalidDataException>(() => Inflate(Deflate(data, final: false))).Message);
        Assert.Contains("1 byte(s) follow", Assert.Throws<InvalidDataException>(() => Inflate([.. complete, 0]))
            .Message);
        var reservedBlockType = (byte[])complete.Clone();
        reservedBlockType[0] = 0x07; // final block of type 3, which deflate reserves
        Assert.Contains("is invalid", Assert.Throws<InvalidDataException>(() => Inflate(reservedBlockType)).Message);
    }

    private static byte[] Inflate(byte[] deflated)
    {
        using var inflate = new StrictInflateStream(new MemoryStream(deflated));
        var output = new MemoryStream();
        inflate.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Deflate(byte[] data, bool final)
    {
        var output = new MemoryStream();
        var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true);
        deflate.Write(data);
        if (final) deflate.Dispose();
        else deflate.Flush(); // a sync flush: byte-aligned, not final
        return output.ToArray();
    }

    private byte[] DeflateInParallel(byte[] data)
    {
        var output = new MemoryStream();
        using var deflate = new ParallelDeflateStream(output, 1, workers: 2);
        deflate.Write(data);
        deflate.Complete();
        return output.ToArray();
    }

    /// <summary>Half text, half random, so both stored-like and matched blocks occur.</summary>
    private static byte[] Content(int size)
    {
        var content = TestFolder.RandomBytes(size);
        for (var i = 0; i < size; i++) if (i / 4096 % 2 == 0) content[i] = (byte)('a' + i % 17);
        return content;
    }

    /// <summary>A sealed BackupManager archive whose one database entry holds <paramref name="deflate"/>(<paramref
    /// name="dump"/>) as its stored bytes.</summary>
    private async Task<string> WriteArchiveAsync(byte[] dump, Func<byte[], byte[]> deflate, bool streamed = false)
    {
        var deflated = deflate(dump);
        var deflatedPath = Path.Combine(_folder.Path, Guid.NewGuid().ToString("N") + ".deflate");
        await File.WriteAllBytesAsync(deflatedPath, deflated);
        var content = new PrecompressedContent(true, Crc32.HashToUInt32(dump), dump.Length, deflated.Length,
            Convert.ToHexStringLower(SHA256.HashData(dump)));
        var path = Path.Combine(_folder.Path,
            BackupFileName.For(DateTimeOffset.UtcNow.AddSeconds(Random.Shared.Next(100_000))));
        const string entry = "db/clinic.dump";
        var createdAt = DateTimeOffset.UtcNow;
        await TestArchives.WriteAsync(path, new BackupManifest
        {
            CreatedAt = createdAt,
            Contains = [BackupContents.Database],
            Database = new ManifestDatabase("clinic", "15", "15", entry),
        }, async writer =>
        {
            if (streamed)
            {
                var raw = writer.OpenPrecompressed(entry, createdAt, deflated: true);
                raw.Write(deflated);
                writer.CompletePrecompressed(entry, createdAt, raw, content);
            }
            else await writer.AddPrecompressedAsync(entry, createdAt, content, deflatedPath, CancellationToken.None);
        });
        return path;
    }

    private static async Task VerifyAsync(string path)
    {
        using var archive = BackupArchiveReader.Open(path);
        await archive.VerifyAsync(null, CancellationToken.None);
    }

    private static async Task<byte[]> ReadDumpAsync(string path)
    {
        using var archive = BackupArchiveReader.Open(path);
        await using var stream = archive.OpenVerified(archive.Manifest.Entries.Single());
        var output = new MemoryStream();
        await stream.CopyToAsync(output);
        return output.ToArray();
    }

    public void Dispose() => _folder.Dispose();
}
