using BackupManager.Core.IO;
using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.Archive;

/// <summary>Reads a spill file from its start at a position of its own (not the file's), so that several threads can
/// read one spill file at once.</summary>
internal sealed class SpillReader(SafeFileHandle file) : ReadOnlyStream
{
    private long _position;

    /// <summary>A buffered reader of what was written to a spill file and flushed (its handle taken once, after the
    /// last write: <see cref="FileStream.SafeFileHandle"/> flushes, which two threads must not do at once).</summary>
    public static Stream Open(SafeFileHandle spill) => new BufferedStream(new SpillReader(spill), 64 * 1024);

    public override int Read(Span<byte> buffer)
    {
        var read = RandomAccess.Read(file, buffer, _position);
        _position += read;
        return read;
    }
}
