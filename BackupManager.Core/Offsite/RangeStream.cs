using BackupManager.Core.IO;
using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.Offsite;

/// <summary>A read-only window of <paramref name="size"/> bytes of a file from <paramref name="start"/>. It reads by
/// offset and keeps its own position, so several windows of one open file upload at once.</summary>
internal sealed class RangeStream(SafeFileHandle file, long start, long size) : ReadOnlyStream
{
    private long _done;
    public override long Length => size;
    public override long Position { get => _done; set => throw new NotSupportedException(); }

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
