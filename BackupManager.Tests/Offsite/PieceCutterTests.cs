using BackupManager.Core.Archive;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// Off-site pieces of a deflated entry end where the dump's deflate chunks end (each with a sync-flush marker), so a
/// change in one chunk leaves every other piece, and its name, as it was; cuts do not depend on how the bytes were
/// read; other data is cut as before.
/// </summary>
public sealed class PieceCutterTests
{
    private static readonly byte[] Marker = [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>The lengths of the pieces <paramref name="data"/> is cut into, fed in reads of <paramref
    /// name="read"/> bytes.</summary>
    private static List<long> Pieces(byte[] data, bool deflated, int read, bool headCut = false)
    {
        var cutter = new PieceCutter(deflated, headCut);
        var pieces = new List<long>();
        long length = 0;
        for (var offset = 0; offset < data.Length; offset += read)
        {
            var span = data.AsSpan(offset, Math.Min(read, data.Length - offset));
            while (!span.IsEmpty)
            {
                var cut = cutter.Next(span, out var consumed);
                length += consumed;
                span = span[consumed..];
                if (cut) { pieces.Add(length); length = 0; }
            }
        }
        if (length > 0) pieces.Add(length);
        return pieces;
    }

    /// <summary>Random bytes without a marker, with one after each of <paramref name="chunks"/>.</summary>
    private static byte[] Chunked(params int[] chunks)
    {
        var data = new List<byte>();
        foreach (var size in chunks)
        {
            var bytes = TestFolder.RandomBytes(size);
            for (var i = 0; i + 1 < bytes.Length; i++) if (bytes[i] == 0) bytes[i] = 1; // no marker by chance
            data.AddRange(bytes);
            data.AddRange(Marker);
        }
        return [.. data];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void A_deflated_entry_is_cut_right_after_each_marker_however_it_is_read(int read)
    {
        var data = Chunked(300_000, 250_000, 400_000, 100_000);
        Assert.Equal([300_004, 250_004, 400_004, 100_004], Pieces(data, deflated: true, read));
    }

    [Fact]
    public void Markers_closer_than_the_minimum_make_one_piece_with_the_next()
    {
        var data = Chunked(20_000, 30_000, 40_000, 200_000);
        Assert.Equal([90_012, 200_004], Pieces(data, deflated: true, 1 << 20));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void With_a_head_the_first_marker_cuts_however_close_and_later_ones_keep_the_minimum(int read)
    {
        var data = Chunked(1_200, 20_000, 300_000, 250_000);
        Assert.Equal([1_204, 320_008, 250_004], Pieces(data, deflated: true, read, headCut: true));
        Assert.Equal([321_212, 250_004], Pieces(data, deflated: true, read));
    }

    [Fact]
    public void A_stored_entry_ignores_markers_and_is_cut_as_before()
    {
        var data = Chunked(300_000, 250_000, 400_000, 3_000_000);
        var gear = new List<long>();
        var cutter = OffsiteFormat.NewCutter();
        var span = data.AsSpan();
        while (!span.IsEmpty)
        {
            var cut = cutter.Next(span, out var consumed);
            span = span[consumed..];
            gear.Add(consumed);
            if (!cut) break;
        }
        Assert.Equal(gear, Pieces(data, deflated: false, 1 << 20));
    }

    [Fact]
    public void A_changed_chunk_changes_only_its_own_piece()
    {
        var before = Chunked(300_000, 250_000, 400_000, 350_000);
        var after = (byte[])before.Clone();
        after[400_000] ^= 0x5A; // inside the second chunk
        var a = Slices(before, Pieces(before, true, 65_536));
        var b = Slices(after, Pieces(after, true, 65_536));
        Assert.Equal(4, a.Count);
        Assert.Equal(3, a.Zip(b).Count(p => p.First.SequenceEqual(p.Second)));
        Assert.False(a[1].SequenceEqual(b[1]));
    }

    private static List<byte[]> Slices(byte[] data, List<long> lengths)
    {
        var slices = new List<byte[]>();
        long at = 0;
        foreach (var length in lengths) { slices.Add(data[(int)at..(int)(at + length)]); at += length; }
        return slices;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_that_alone_changed_changes_only_the_small_first_piece_of_a_dump_or_manifest(bool manifest)
    {
        // Lines of 32 bytes: one ends just before 4 KiB, where a head counted in bytes would lose step.
        var before = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 400_000)
            .Select(i => $"row {i:D7} caries molar review\n")));
        // pg_dump's header has a fixed length, other bytes in it; the manifest's time can have a digit more.
        var header = Enumerable.Range(0, manifest ? 11 : 10).Select(i => (byte)(65 + i));
        var after = before[..70].Concat(header).Concat(before[80..]).ToArray(); // inside the third line
        List<string> PiecesOf(byte[] content)
        {
            var output = new MemoryStream();
            using (var deflate = manifest
                ? new ParallelDeflateStream(output, 1, workers: 1, BackupArchiveWriter.ManifestChunkSize,
                    contentDefinedCuts: true, headLines: BackupArchiveWriter.ManifestHeadLines)
                : new ParallelDeflateStream(output, 6, workers: 2, PrecompressedFile.DumpChunkSize,
                    contentDefinedCuts: true, headBytes: PrecompressedFile.HeadBytes))
            {
                deflate.Write(content);
                deflate.Complete();
            }
            var deflated = output.ToArray();
            return Slices(deflated, Pieces(deflated, deflated: true, 1 << 20, headCut: true))
                .Select(p => $"{p.Length}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p))}")
                .ToList();
        }
        var (a, b) = (PiecesOf(before), PiecesOf(after));
        Assert.True(a.Count > 5, $"{a.Count} pieces");
        Assert.True(int.Parse(a[0].Split(':')[0]) < 4096, $"the first piece is {a[0]}");
        Assert.Equal(a.Skip(1), b.Skip(1));
    }

    [Fact]
    public void The_dumps_deflate_chunks_end_with_the_marker_the_cutter_looks_for()
    {
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 400_000)
            .Select(i => $"row {i} {i * 7919 % 10007} caries molar review\n")));
        var output = new MemoryStream();
        using (var deflate = new ParallelDeflateStream(output, 1, workers: 2,
            chunkSize: PrecompressedFile.DumpChunkSize, contentDefinedCuts: true))
        {
            deflate.Write(text);
            deflate.Complete();
        }
        var pieces = Pieces(output.ToArray(), deflated: true, 1 << 20);
        // About 3/4 MiB of dump each (1/4 to 4 MiB), merged where compressed below the minimum piece.
        Assert.InRange(pieces.Count, text.Length / (1536L << 10), text.Length / (400L << 10));
    }
}
