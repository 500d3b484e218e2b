using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.IO;

/// <summary>A read-only window of <paramref name="size"/> bytes of a file from <paramref name="start"/>. It reads by
/// offset and keeps its own position, so several windows of one open file can be read at once (an upload's pieces,
/// or a spill file read by two threads).</summary>
internal sealed class RangeStream(SafeFileHandle file, long start, long size) : ReadOnlyStream
{
    private long _done;
    public override long Length => size;
    public override long Position { get => _done; set => throw new NotSupportedException(); }

    /// <summary>A buffered reader of the whole of a file that is no longer written (a flushed spill file; its handle
    /// taken once, after the last write: <see cref="FileStream.SafeFileHandle"/> flushes, which two threads must not
    /// do at once).</summary>
    public static Stream OpenWhole(SafeFileHandle file) =>
        new BufferedStream(new RangeStream(file, 0, RandomAccess.GetLength(file)), 64 * 1024);

    public override int Read(Span<byte> buffer)
    {
        var n = RandomAccess.Read(file, buffer[..(int)Math.Min(buffer.Length, size - _done)], start + _done);
        _done += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        var n = await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, size - _done)],
            start + _done, cancellationToken).ConfigureAwait(false);
        _done += n;
        return n;
    }
}
