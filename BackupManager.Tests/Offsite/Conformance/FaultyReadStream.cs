using BackupManager.Core.IO;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// What a destination gives back, spoiled on the way: it ends after <paramref name="truncateAt"/> bytes (a connection
/// closed early, a short file) and/or the byte at <paramref name="flipAt"/> has its bits inverted (rot).
/// </summary>
public sealed class FaultyReadStream(Stream inner, long? truncateAt, long? flipAt) : ReadOnlyStream
{
    private long _position;

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer[..Allowed(buffer.Length)]);
        Spoil(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false);
        Spoil(buffer.Span[..n]);
        return n;
    }

    private int Allowed(int wanted) => truncateAt is { } end ? (int)Math.Clamp(end - _position, 0, wanted) : wanted;

    private void Spoil(Span<byte> read)
    {
        if (flipAt is { } at && at >= _position && at < _position + read.Length) read[(int)(at - _position)] ^= 0xFF;
        _position += read.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
