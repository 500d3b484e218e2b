using BackupManager.Core.Offsite;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// The fetch reads objects ahead, several at once, and hands them back in index order; the bytes it holds stay within
/// 16 MiB (or the largest object) however slowly they are written, and an object's true length shows whatever its
/// index entry says.
/// </summary>
public sealed class ObjectReadAheadTests
{
    private const int MiB = ObjectReadAhead.ChunkBytes;

    [Fact]
    public async Task Objects_come_back_in_index_order_byte_for_byte_though_later_ones_finish_first()
    {
        var lengths = new long[] { 0, 1, MiB, MiB + 1, 3 * MiB + 17, 5000, 2 * MiB, 70_000, 1, MiB - 1 };
        var segments = lengths.Select((l, i) => i == 5
            ? new IndexSegment { Inline = Pattern(i, l) } : new IndexSegment { Object = $"o{i}", Length = l }).ToList();
        var source = new FakeObjects(segments, delays: true);
        await using var ahead = new ObjectReadAhead(segments, 3, source.OpenAsync, (_, e) => e, default);
        for (var i = 0; i < segments.Count; i++)
        {
            using var fetched = await ahead.NextAsync(default);
            Assert.Equal(lengths[i], fetched.Length);
            Assert.Equal(Pattern(i, lengths[i]), fetched.Parts.SelectMany(p => p.ToArray()).ToArray());
        }
        Assert.InRange(source.MaxOpen, 2, 3);
    }

    [Fact]
    public async Task Read_ahead_holds_at_most_16_MiB_or_the_largest_object_and_a_large_object_is_read_alone()
    {
        var large = Enumerable.Range(0, 4).Select(i => new IndexSegment { Object = $"l{i}", Length = 40L * MiB })
            .ToList();
        var source = new FakeObjects(large, delays: false);
        await using (var ahead = new ObjectReadAhead(large, 4, source.OpenAsync, (_, e) => e, default))
        {
            await Started(() => ahead.BytesReserved);
            Assert.InRange(ahead.BytesReserved, 1, 64L * MiB);
            foreach (var _ in large) (await ahead.NextAsync(default)).Dispose();
        }
        Assert.Equal(1, source.MaxOpen);

        var small = Enumerable.Range(0, 30).Select(i => new IndexSegment { Object = $"s{i}", Length = 10L * MiB })
            .ToList();
        var slow = new FakeObjects(small, delays: false);
        await using var reader = new ObjectReadAhead(small, 4, slow.OpenAsync, (_, e) => e, default);
        await Started(() => reader.BytesReserved); // nothing written yet: it stops at its budget, 16 MiB for these
        Assert.InRange(reader.BytesReserved, 1, 16L * MiB);
        Assert.InRange(slow.Opened, 1, 6);
        foreach (var _ in small) (await reader.NextAsync(default)).Dispose();
        Assert.InRange(slow.MaxOpen, 1, 4);
    }

    /// <summary>Waits until the read-ahead's own task has reserved memory (a loaded machine starts it late),
    /// then a little longer, in which it would overrun its budget if it could.</summary>
    private static async Task Started(Func<long> reserved)
    {
        Assert.True(await Cluster.ClusterTestDatabase.EventuallyAsync(() => reserved() > 0, TimeSpan.FromSeconds(20)),
            "the read-ahead never started");
        await Task.Delay(300);
    }

    [Fact]
    public async Task An_object_longer_or_shorter_than_its_index_entry_shows_its_true_length()
    {
        var segments = new List<IndexSegment>
        {
            new() { Object = "long", Length = MiB }, new() { Object = "short", Length = 2 * MiB },
        };
        var source = new FakeObjects(segments, delays: false, actual: [MiB + 10, 3 * MiB / 2]);
        await using var ahead = new ObjectReadAhead(segments, 2, source.OpenAsync, (_, e) => e, default);
        using (var first = await ahead.NextAsync(default)) Assert.Equal(MiB + 1, first.Length);
        using (var second = await ahead.NextAsync(default)) Assert.Equal(3 * MiB / 2, second.Length);
    }

    private static byte[] Pattern(int seed, long length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 31 + seed * 7 + (i >> 12));
        return bytes;
    }

    /// <summary>Objects whose bytes follow <see cref="Pattern"/>; counts how many are open at once.</summary>
    private sealed class FakeObjects(IReadOnlyList<IndexSegment> segments, bool delays, long[]? actual = null)
    {
        private int _open;
        private int _opened;
        public int MaxOpen { get; private set; }
        public int Opened => _opened;

        public async Task<Stream> OpenAsync(IndexSegment segment, CancellationToken ct)
        {
            var index = segments.ToList().IndexOf(segment);
            Interlocked.Increment(ref _opened);
            lock (this) MaxOpen = Math.Max(MaxOpen, ++_open);
            // The first objects take longest: the ones after them finish first.
            if (delays) await Task.Delay(Math.Max(0, 200 - index * 40), ct);
            var length = actual?[index] ?? segment.Length;
            return new CountedStream(new MemoryStream(Pattern(index, length)), () => { lock (this) _open--; });
        }
    }

    private sealed class CountedStream(Stream inner, Action closed) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) closed();
            base.Dispose(disposing);
        }
    }
}
