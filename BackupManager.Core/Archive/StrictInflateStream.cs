using System.Runtime.InteropServices;

namespace BackupManager.Core.Archive;

/// <summary>
/// Decodes a raw deflate stream the way stock readers judge it. System.IO.Compression's DeflateStream accepts input
/// that ends without a final block and ignores bytes after it, so an archive could pass verify that <c>unzip -t</c>
/// and Python's <c>zipfile</c> refuse. This decoder throws <see cref="InvalidDataException"/> when the stream ends
/// before its final block, or when any byte of the source follows the final block.
/// Contract: the source yields exactly the entry's stored bytes and then end of stream; one reader.
/// It calls the same zlib-ng build that .NET's own DeflateStream uses (the runtime's System.IO.Compression.Native,
/// whose exports carry a symbol version), because only the native inflater says where the final block ends.
/// </summary>
internal sealed unsafe partial class StrictInflateStream : Stream
{
    private const int RawDeflateWindowBits = -15, NoFlush = 0, Ok = 0, StreamEnd = 1, BufferError = -5;
    private const int InputSize = 64 << 10;

    private readonly Stream _source;
    private readonly byte[] _input = GC.AllocateUninitializedArray<byte>(InputSize, pinned: true);
    private ZStream _z;
    private bool _initialized, _finished, _sourceEnded;

    public StrictInflateStream(Stream source)
    {
        _source = source;
        var result = InflateInit2(ref _z, RawDeflateWindowBits);
        if (result != Ok) throw new InvalidOperationException($"zlib could not start an inflater (error {result}).");
        _initialized = true;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_finished || buffer.IsEmpty) return 0;
        while (true)
        {
            if (_z.AvailIn == 0 && !_sourceEnded)
            {
                var read = _source.Read(_input);
                if (read == 0) _sourceEnded = true;
                fixed (byte* input = _input) _z.NextIn = input; // the array is pinned for its lifetime
                _z.AvailIn = (uint)read;
            }
            int result;
            uint produced;
            fixed (byte* output = buffer)
            {
                _z.NextOut = output;
                _z.AvailOut = (uint)buffer.Length;
                result = Inflate(ref _z, NoFlush);
                produced = (uint)buffer.Length - _z.AvailOut;
                _z.NextOut = null;
            }
            if (result == StreamEnd)
            {
                _finished = true;
                var trailing = (long)_z.AvailIn + DrainSource();
                if (trailing > 0) throw new InvalidDataException(
                    $"{trailing} byte(s) follow the end of its deflate stream");
                return (int)produced;
            }
            if (result is not (Ok or BufferError))
                throw new InvalidDataException(
                    $"its deflate stream is invalid ({Marshal.PtrToStringUTF8(_z.Message) ?? $"zlib error {result}"})");
            if (produced > 0) return (int)produced;
            if (_z.AvailIn == 0
                && _sourceEnded) throw new InvalidDataException("its deflate stream ends without a final block");
        }
    }

    /// <summary>Counts (and consumes) what the source still holds after the final block.</summary>
    private long DrainSource()
    {
        if (_sourceEnded) return 0;
        long count = 0;
        int read;
        while ((read = _source.Read(_input)) > 0) count += read;
        _sourceEnded = true;
        return count;
    }

    protected override void Dispose(bool disposing)
    {
        if (_initialized)
        {
            _initialized = false;
            InflateEnd(ref _z);
        }
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

    /// <summary>PAL_ZStream of the runtime's System.IO.Compression.Native (pal_zlib.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public byte* NextOut;
        public IntPtr Message;
        public IntPtr InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    private const string Library = "libSystem.IO.Compression.Native";

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateInit2_")]
    private static partial int InflateInit2(ref ZStream stream, int windowBits);

    [LibraryImport(Library, EntryPoint = "CompressionNative_Inflate")]
    private static partial int Inflate(ref ZStream stream, int flush);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateEnd")]
    private static partial int InflateEnd(ref ZStream stream);
}
