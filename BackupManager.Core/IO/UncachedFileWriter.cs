using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.IO;

/// <summary>
/// Writes a new file in 4 MiB aligned pieces with O_DIRECT: the bytes go from this buffer to the disk without passing
/// through the page cache, so a backup of gigabytes neither pushes the clinic's database out of memory nor pays the
/// kernel for filling page-cache pages (on this class of VM that cost more CPU than the copy: 1.85 s of system time
/// per 1.26 GB buffered against 0.31 s direct). One piece is written on a pool thread while the next one fills.
/// Supports appending and overwriting bytes already written (a zip writer patching a local header); nothing else.
/// Where the file system refuses O_DIRECT the same code writes through the page cache. <see cref="Complete"/> writes
/// the last piece; disposing without it leaves the file incomplete, for the caller to delete.
/// </summary>
internal sealed unsafe class UncachedFileWriter : InlineWriteStream
{
    private readonly SafeFileHandle _handle;
    // Rented once the file is made: a constructor that throws (the file exists) must not leak them.
    private byte* _filling, _writing;
    private Task _inFlight = Task.CompletedTask;
    private long _chunkStart; // file offset of _filling[0], a multiple of the chunk size
    private int _filled;
    private long _position;
    private bool _completed, _disposed;

    /// <summary>Creates <paramref name="path"/>, which must not exist.</summary>
    public UncachedFileWriter(string path, bool bypassPageCache = true, FileShare share = FileShare.None)
    {
        Name = path;
        // Read access too: patching bytes already on disk reads their aligned block first.
        _handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, share);
        PrivateFiles.Restrict(_handle);
        BypassesPageCache = bypassPageCache && NativeFileSystem.TryBypassPageCache(_handle);
        _filling = AlignedChunks.Rent();
        _writing = AlignedChunks.Rent();
    }

    public string Name { get; }
    public bool BypassesPageCache { get; }

    public override bool CanSeek => true;
    public override bool CanWrite => !_completed;
    public override long Length => _chunkStart + _filled;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Length);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("The file is complete; nothing more can be written.");
        if (_position < Length)
        {
            var overwrite = (int)Math.Min(buffer.Length, Length - _position);
            Overwrite(_position, buffer[..overwrite]);
            _position += overwrite;
            buffer = buffer[overwrite..];
        }
        while (!buffer.IsEmpty)
        {
            var piece = Math.Min(buffer.Length, AlignedChunks.Size - _filled);
            buffer[..piece].CopyTo(new Span<byte>(_filling + _filled, piece));
            _filled += piece;
            buffer = buffer[piece..];
            if (_filled == AlignedChunks.Size) StartWritingFilledChunk();
        }
        _position = Length;
    }

    /// <summary>Nothing to do: whole pieces are written as they fill, and the last one by <see
    /// cref="Complete"/>.</summary>
    public override void Flush() { }

    /// <summary>How many bytes from the start are on disk (whole pieces); waits for the piece being written.</summary>
    public long WaitForWrittenLength()
    {
        WaitForInFlight();
        return _chunkStart;
    }

    /// <summary>Copies the bytes not yet on disk (the piece still filling) to <paramref name="destination"/>.</summary>
    public void CopyUnwrittenTo(Stream destination) => destination.Write(new ReadOnlySpan<byte>(_filling, _filled));

    /// <summary>Writes what is left (padded to the alignment, then cut to length) and, when asked, fsyncs the
    /// file.</summary>
    public void Complete(bool flushToDisk)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) return;
        WaitForInFlight();
        var length = Length;
        if (_filled > 0)
        {
            var padded = (int)AlignedChunks.AlignUp(_filled);
            new Span<byte>(_filling + _filled, padded - _filled).Clear();
            RandomAccess.Write(_handle, new ReadOnlySpan<byte>(_filling, padded), _chunkStart);
            if (padded != _filled) RandomAccess.SetLength(_handle, length);
        }
        if (flushToDisk) RandomAccess.FlushToDisk(_handle);
        _completed = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            try { _inFlight.Wait(); } catch (AggregateException) { /* the file is incomplete; the caller deletes it */ }
            _handle.Dispose();
            AlignedChunks.Return(_filling);
            AlignedChunks.Return(_writing);
            _filling = _writing = null;
        }
        base.Dispose(disposing);
    }

    private void StartWritingFilledChunk()
    {
        WaitForInFlight();
        var filled = _filling;
        _filling = _writing;
        _writing = filled;
        var chunk = (nint)_writing;
        var offset = _chunkStart;
        _inFlight = Task.Run(() => RandomAccess.Write(_handle, new ReadOnlySpan<byte>((byte*)chunk, AlignedChunks.Size),
            offset));
        _chunkStart += AlignedChunks.Size;
        _filled = 0;
    }

    private void WaitForInFlight()
    {
        try { _inFlight.GetAwaiter().GetResult(); }
        finally { _inFlight = Task.CompletedTask; }
    }

    /// <summary>Overwrites bytes already written: in the filling piece directly, on disk by rewriting the aligned
    /// blocks around them.</summary>
    private void Overwrite(long offset, ReadOnlySpan<byte> bytes)
    {
        var inFilling = Math.Max(offset, _chunkStart);
        if (inFilling < offset + bytes.Length)
        {
            var skip = (int)(inFilling - offset);
            bytes[skip..].CopyTo(new Span<byte>(_filling + (inFilling - _chunkStart), bytes.Length - skip));
            bytes = bytes[..skip];
        }
        if (bytes.IsEmpty) return;
        WaitForInFlight();
        var blockStart = AlignedChunks.AlignDown(offset);
        var blockLength = (int)(AlignedChunks.AlignUp(offset + bytes.Length) - blockStart);
        var block = (byte*)NativeMemory.AlignedAlloc((nuint)blockLength, AlignedChunks.Alignment);
        try
        {
            var span = new Span<byte>(block, blockLength);
            if (RandomAccess.Read(_handle, span, blockStart) != blockLength)
                throw new IOException($"{Name}: could not read back bytes already written.");
            bytes.CopyTo(span[(int)(offset - blockStart)..]);
            RandomAccess.Write(_handle, span, blockStart);
        }
        finally { NativeMemory.AlignedFree(block); }
    }
}
