using System.IO.Compression;
using System.Text;
using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The dump is deflated in chunks on several threads; the chunks joined in order must be one ordinary deflate stream
/// that gives back exactly the input, whatever the sizes, and costs next to nothing in size against one deflater.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ParallelDeflateTests
{
    private const int Chunk = 64 << 10;

    public static TheoryData<int> Sizes => new() { 0, 1, Chunk - 1, Chunk, 4 * Chunk, 7 * Chunk + 12_345 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Chunks_joined_in_order_inflate_to_exactly_the_input(int size)
    {
        var input = MixedContent(size);
        var output = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(output, 1, workers: 3, chunkSize: Chunk))
        {
            // Uneven writes, so chunk boundaries fall inside them.
            for (int offset = 0, step = 1; offset < input.Length; offset += step, step = step * 7 % 100_003 + 1)
                deflate.Write(input.AsSpan(offset, Math.Min(step, input.Length - offset)));
            deflate.Complete();
        }
        Assert.Equal(input, Inflate(output.ToArray()));
    }

    [Fact]
    public void A_head_must_be_shorter_than_a_chunk_and_one_without_line_ends_ends_with_the_first_chunk()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelDeflateStream(Stream.Null, 1, 1, Chunk, false,
            headBytes: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelDeflateStream(Stream.Null, 1, 1, Chunk, false,
            headLines: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelDeflateStream(Stream.Null, 1, 1, Chunk, false,
            headBytes: Chunk));
        // Binary bytes with no line end at all: the head ends with the first chunk, and content-defined cuts follow.
        var input = TestFolder.RandomBytes(8 * Chunk).Select(b => b == (byte)'\n' ? (byte)0 : b).ToArray();
        var output = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(output, 1, 2, Chunk, contentDefinedCuts: true, headBytes: 4096,
            headLines: 32))
        {
            deflate.Write(input);
            deflate.Complete();
        }
        Assert.Equal(input, Inflate(output.ToArray()));
        var cuts = output.ToArray().AsSpan().Count((ReadOnlySpan<byte>)[0, 0, 0xFF, 0xFF]);
        Assert.True(cuts > 16, $"{cuts} chunk ends in 8 chunk sizes: the cutter did not resume after the head");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Content_defined_chunks_also_inflate_to_exactly_the_input(int size)
    {
        var input = MixedContent(size);
        Assert.Equal(input, Inflate(Deflate(input, contentDefined: true, Chunk)));
    }

    [Fact]
    public void With_content_defined_chunks_rows_that_grew_early_in_a_dump_leave_the_rest_compressed_to_the_same_bytes()
    {
        var before = MixedContent(64 * Chunk);
        // A row near the start grew by 37 bytes: everything after it shifts.
        var after = before[..5000].Concat(Encoding.ASCII.GetBytes(" (reviewed by the dentist on 2026-12-01)")[..37])
            .Concat(before[5000..]).ToArray();
        var shared = CommonSuffix(Deflate(before, contentDefined: true, 4 * Chunk),
            Deflate(after, contentDefined: true, 4 * Chunk));
        var sharedFixed = CommonSuffix(Deflate(before, contentDefined: false, 4 * Chunk),
            Deflate(after, contentDefined: false, 4 * Chunk));
        var total = Deflate(before, contentDefined: true, 4 * Chunk).Length;
        Assert.True(shared > total * 0.8, $"content-defined: {shared:N0} of {total:N0} bytes shared");
        // why the cuts are content-defined
        Assert.True(sharedFixed < total * 0.1, $"fixed: {sharedFixed:N0} of {total:N0} bytes shared");
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(3_000)]
    [InlineData(20_000)]
    [InlineData(70_000)]
    [InlineData(150_000)]
    [InlineData(400_000)]
    public void After_a_rewritten_stretch_the_dumps_chunks_fall_back_in_step_within_a_few_megabytes(int grewBy)
    {
        // bytea as pg_dump writes it (hex), 24 MiB; then its first MiB rewritten and longer (rows that grew).
        var random = new Random(26);
        static byte[] Hex(Random random, int bytes)
        {
            var raw = new byte[bytes / 2];
            random.NextBytes(raw);
            return Encoding.ASCII.GetBytes(Convert.ToHexStringLower(raw));
        }
        var before = Hex(random, 24 << 20);
        var after = Hex(random, (1 << 20) + grewBy).Concat(before[(1 << 20)..]).ToArray();
        var chunk = PrecompressedFile.DumpChunkSize;
        var shared = CommonSuffix(Deflate(before, contentDefined: true, chunk), Deflate(after, true, chunk));
        var total = Deflate(before, contentDefined: true, chunk).Length;
        Assert.True(shared > total * 0.8, $"{shared:N0} of {total:N0} bytes shared");
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 19)]
    public void Compression_threads_give_way_to_requests_a_little_or_at_low_priority_a_lot(bool low, int nice)
    {
        // Only the workers that appear with this stream are looked at (an earlier test's may still be ending).
        static Dictionary<string, int> Workers() => ThreadNices.Named("Deflate worker");
        var before = Workers().Keys.ToHashSet();
        var output = new MemoryStream();
        using var deflate = new ParallelDeflateStream(output, 1, workers: 2, chunkSize: Chunk, lowPriority: low);
        deflate.Write(MixedContent(8 * Chunk)); // full chunks start the workers
        List<int> nices = [];
        for (var i = 0; i < 50 && (nices.Count == 0 || nices.Any(n => n != nice)); i++, Thread.Sleep(20))
            nices = Workers().Where(w => !before.Contains(w.Key)).Select(w => w.Value).ToList();
        deflate.Complete();
        Assert.NotEmpty(nices);
        Assert.All(nices, n => Assert.Equal(nice, n));
    }

    private static byte[] Deflate(byte[] input, bool contentDefined, int chunkSize)
    {
        var output = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(output, 1, workers: 2, chunkSize: chunkSize,
            contentDefinedCuts: contentDefined))
        {
            for (var offset = 0; offset < input.Length; offset += 100_000) deflate.Write(
                input.AsSpan(offset, Math.Min(100_000, input.Length - offset)));
            deflate.Complete();
        }
        return output.ToArray();
    }

    private static int CommonSuffix(byte[] a, byte[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[^(n + 1)] == b[^(n + 1)]) n++;
        return n;
    }

    [Fact]
    public void Compresses_text_about_as_well_as_one_deflater()
    {
        var input = Text(40 * Chunk);
        var parallel = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(parallel, 1, workers: 2, chunkSize: 16 * Chunk))
        {
            deflate.Write(input);
            deflate.Complete();
        }
        var single = new MemoryStream();
        using (var deflate = new DeflateStream(single, new ZLibCompressionOptions { CompressionLevel = 1 },
            leaveOpen: true)) deflate.Write(input);
        Assert.True(parallel.Length < input.Length / 3, $"{parallel.Length} of {input.Length}");
        Assert.True(parallel.Length <= single.Length * 1.01,
            $"parallel {parallel.Length} against single {single.Length}");
    }

    [Fact]
    public void Hex_text_such_as_a_dumps_bytea_is_huffman_coded_to_about_half_and_reads_back()
    {
        // What COPY writes for bytea holding an image: two hex digits per byte, nothing for string matching to find.
        var input = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(TestFolder.RandomBytes(4 * Chunk)));
        var output = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(output, 1, workers: 2, chunkSize: 2 * Chunk))
        {
            deflate.Write(input);
            deflate.Complete();
        }
        // Level 1 with string matching keeps about 85 %; Huffman coding alone comes close to the 4 bits a hex digit
        // carries.
        Assert.True(output.Length < input.Length * 0.55, $"{output.Length} of {input.Length}");
        Assert.Equal(input, Inflate(output.ToArray()));
    }

    [Fact]
    public async Task A_failing_destination_surfaces_from_the_writer_and_disposing_does_not_hang()
    {
        var deflate = new ParallelDeflateStream(new FailingStream(), 1, workers: 2, chunkSize: Chunk);
        var error = Assert.Throws<IOException>(() =>
        {
            deflate.Write(MixedContent(10 * Chunk));
            deflate.Complete();
        });
        Assert.Equal("No space left on device", error.Message);
        var disposed = Task.Run(deflate.Dispose);
        Assert.Same(disposed, await Task.WhenAny(disposed, Task.Delay(TimeSpan.FromSeconds(10))));
        deflate.Dispose(); // twice, as nested usings may
        Assert.Throws<ObjectDisposedException>(() => deflate.Write([1]));
    }

    /// <summary>Half text (compresses), half random (does not), so both kinds of block are exercised.</summary>
    private static byte[] MixedContent(int size)
    {
        var text = Text(size);
        var random = TestFolder.RandomBytes(size);
        var content = new byte[size];
        for (var i = 0; i < size; i++) content[i] = i / 5000 % 2 == 0 ? text[i] : random[i];
        return content;
    }

    private static byte[] Text(int size)
    {
        var lines = new StringBuilder();
        for (var i = 0; lines.Length < size; i++) lines.Append($"{i}\tPatient {i % 977} recall in {i % 12} months\n");
        return Encoding.UTF8.GetBytes(lines.ToString())[..size];
    }

    private static byte[] Inflate(byte[] deflated)
    {
        using var inflate = new DeflateStream(new MemoryStream(deflated), CompressionMode.Decompress);
        var result = new MemoryStream();
        inflate.CopyTo(result);
        return result.ToArray();
    }

    private sealed class FailingStream : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) =>
            throw new IOException("No space left on device");
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) { }
    }
}
