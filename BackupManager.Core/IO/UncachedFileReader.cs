using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.IO;

/// <summary>
/// Reads a file in 4 MiB aligned pieces with O_DIRECT (see <see cref="UncachedFileWriter"/> for why), reading the next
/// piece ahead on a pool thread while the caller consumes this one. Seekable, so a zip reader can use it; reading on
/// from where the last read stopped is what it is fast at. Falls back to the page cache where O_DIRECT is refused.
/// </summary>
internal sealed unsafe class UncachedFileReader : Stream
{
    private readonly SafeFileHandle _handle;
    // Rented once the file is open: a constructor that throws (no such file) must not leak them.
    private byte* _current, _ahead;
    private long _currentStart = -1, _aheadStart = -1;
    private int _currentValid;
    private Task<int>? _aheadRead;
    private long _position;
    private bool _disposed;
    private const int JumpReadSize = 64 << 10;

    /// <summary>Opens <paramref name="path"/> for reading; throws what <see cref="File.OpenHandle"/> throws (not found,
    /// access denied).</summary>
    public UncachedFileReader(string path, FileShare share = FileShare.Read, bool bypassPageCache = true)
    {
        Name = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, share);
        BypassesPageCache = bypassPageCache && NativeFileSystem.TryBypassPageCache(_handle);
        _current = AlignedChunks.Rent();
        _ahead = AlignedChunks.Rent();
    }

    /// <summary>A second reader of the file <paramref name="other"/> reads, with its own position and buffers: the
    /// same open file through a duplicate descriptor, not the path again (which may since name another file).</summary>
    public UncachedFileReader(UncachedFileReader other)
    {
        ObjectDisposedException.ThrowIf(other._disposed, other);
        Name = other.Name;
        _handle = NativeFileSystem.TryDuplicate(other._handle) ?? throw new PlatformNotSupportedException(
            "A second reader of an open file needs Linux.");
        BypassesPageCache = other.BypassesPageCache;
        _current = AlignedChunks.Rent();
        _ahead = AlignedChunks.Rent();
    }

    public string Name { get; }
    public bool BypassesPageCache { get; }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => false;
    public override long Length => RandomAccess.GetLength(_handle);

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        // As FileStream does: zip readers probing a short file rely on this being an IOException.
        if (target < 0) throw new IOException(
            "An attempt was made to move the position before the beginning of the stream.");
        return Position = target;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = 0;
        while (!buffer.IsEmpty)
        {
            if (!Load(_position)) break;
            var from = (int)(_position - _currentStart);
            var piece = Math.Min(buffer.Length, _currentValid - from);
            new ReadOnlySpan<byte>(_current + from, piece).CopyTo(buffer);
            buffer = buffer[piece..];
            _position += piece;
            total += piece;
        }
        return total;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Makes the current piece hold <paramref name="position"/>; false at the end of the file. Reading on from the
    /// last piece reads 4 MiB and the next 4 MiB ahead; a jump elsewhere (a zip reader visiting headers) reads 64 KiB.
    /// </summary>
    private bool Load(long position)
    {
        if (_currentStart >= 0 && position >= _currentStart && position < _currentStart + _currentValid) return true;
        var sequential = _currentStart >= 0 && position == _currentStart + _currentValid;
        var start = AlignedChunks.AlignDown(position);
        int valid, wanted;
        if (_aheadRead is not null && _aheadStart == start)
        {
            wanted = AlignedChunks.Size;
            valid = TakeAhead();
            var previous = _current;
            _current = _ahead;
            _ahead = previous;
            sequential = true;
        }
        else
        {
            if (_aheadRead is not null) TakeAhead();
            wanted = sequential ? AlignedChunks.Size : JumpReadSize;
            valid = RandomAccess.Read(_handle, new Span<byte>(_current, wanted), start);
        }
        (_currentStart, _currentValid) = (start, valid);
        // A full piece read in sequence means more is likely wanted: read the next one while the caller works on this
        // one.
        if (sequential && valid == wanted)
        {
            var next = start + valid;
            var chunk = (nint)_ahead;
            _aheadStart = next;
            _aheadRead = Task.Run(() => RandomAccess.Read(_handle, new Span<byte>((byte*)chunk, AlignedChunks.Size),
                next));
        }
        return position < start + valid;
    }

    private int TakeAhead()
    {
        try { return _aheadRead!.GetAwaiter().GetResult(); }
        finally { (_aheadRead, _aheadStart) = (null, -1); }
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            try { _aheadRead?.Wait(); } catch (AggregateException) { /* nothing will read it */ }
            _handle.Dispose();
            AlignedChunks.Return(_current);
            AlignedChunks.Return(_ahead);
            _current = _ahead = null;
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
