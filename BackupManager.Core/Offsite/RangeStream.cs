using BackupManager.Core.IO;

namespace BackupManager.Core.Offsite;

/// <summary>A read-only window of <paramref name="size"/> bytes from the current position of <paramref
/// name="inner"/>.</summary>
internal sealed class RangeStream(Stream inner, long size) : ReadOnlyStream
{
    private readonly long _size = size;
    private long _left = size;
    public override long Length => _size;
    public override long Position { get => _size - _left; set => throw new NotSupportedException(); }
    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        _left -= n;
        return n;
    }
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)],
            cancellationToken).ConfigureAwait(false);
        _left -= n;
        return n;
    }
}
