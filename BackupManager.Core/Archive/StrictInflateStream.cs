using System.Runtime.InteropServices;

namespace BackupManager.Core.Archive;

/// <summary>
/// Decodes a raw deflate stream the way stock readers judge it. System.IO.Compression's DeflateStream accepts input
/// that ends without a final block and ignores bytes after it, so an archive could pass verify that <c>unzip -t</c>
/// and Python's <c>zipfile</c> refuse. This decoder throws <see cref="InvalidDataException"/> when the stream ends
/// before its final block, or when any byte of the source follows the final block.
/// Contract: the source yields exactly the entry's stored bytes and then end of stream; one reader.
/// It calls the system zlib's documented inflate() (<see cref="SystemZlib"/>, libz.so.1), because only a native
/// inflater says where the final block ends, and the runtime's own zlib-ng has no public entry points.
/// </summary>
internal sealed unsafe class StrictInflateStream : Stream
{
    private const int InputSize = 64 << 10;

    private readonly Stream _source;
    // Native memory, freed on dispose: a restore opens one of these per file, and as pinned arrays 25,000 documents
    // left 30 MB of dead buffers on the pinned heap between full collections. zlib also refuses a z_stream that moved
    // since inflateInit2_, and the GC moves managed objects.
    private byte* _input;
    private SystemZlib.ZStream* _z;
    private bool _finished, _sourceEnded;

    public StrictInflateStream(Stream source)
    {
        _source = source;
        var z = (SystemZlib.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(SystemZlib.ZStream));
        try { SystemZlib.StartRawInflate(z); }
        catch
        {
            NativeMemory.Free(z);
            GC.SuppressFinalize(this);
            throw;
        }
        _z = z;
        _input = (byte*)NativeMemory.Alloc(InputSize);
    }

    private Span<byte> Input => new(_input, InputSize);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_finished || buffer.IsEmpty) return 0;
        ObjectDisposedException.ThrowIf(_z is null, this);
        while (true)
        {
            if (_z->AvailIn == 0 && !_sourceEnded)
            {
                var read = _source.Read(Input);
                if (read == 0) _sourceEnded = true;
                _z->NextIn = _input;
                _z->AvailIn = (uint)read;
            }
            int result;
            uint produced;
            fixed (byte* output = buffer)
            {
                _z->NextOut = output;
                _z->AvailOut = (uint)buffer.Length;
                result = SystemZlib.Inflate(_z, SystemZlib.NoFlush);
                produced = (uint)buffer.Length - _z->AvailOut;
                _z->NextOut = null;
            }
            if (result == SystemZlib.StreamEnd)
            {
                _finished = true;
                var trailing = (long)_z->AvailIn + DrainSource();
                if (trailing > 0) throw new InvalidDataException(
                    $"{trailing} byte(s) follow the end of its deflate stream");
                return (int)produced;
            }
            if (result is not (SystemZlib.Ok or SystemZlib.BufferError))
            {
                var reason = Marshal.PtrToStringUTF8(_z->Message) ?? $"zlib error {result}";
                throw new InvalidDataException($"its deflate stream is invalid ({reason})");
            }
            if (produced > 0) return (int)produced;
            if (_z->AvailIn == 0
                && _sourceEnded) throw new InvalidDataException("its deflate stream ends without a final block");
        }
    }

    /// <summary>Counts (and consumes) what the source still holds after the final block.</summary>
    private long DrainSource()
    {
        if (_sourceEnded) return 0;
        long count = 0;
        int read;
        while ((read = _source.Read(Input)) > 0) count += read;
        _sourceEnded = true;
        return count;
    }

    protected override void Dispose(bool disposing)
    {
        if (_z is not null)
        {
            SystemZlib.InflateEnd(_z);
            NativeMemory.Free(_z);
            _z = null;
        }
        NativeMemory.Free(_input);
        _input = null;
        base.Dispose(disposing);
    }

    ~StrictInflateStream() => Dispose(false);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set =>
        throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
