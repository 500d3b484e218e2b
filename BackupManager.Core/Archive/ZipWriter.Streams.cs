using System.IO.Compression;
using System.IO.Hashing;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

internal sealed partial class ZipWriter
{
    /// <summary>Content of one entry: computes the CRC-32 (unless the caller gives it, see <see cref="ContentCrc32"/>),
    /// deflates when asked, and completes the entry on dispose.</summary>
    internal sealed class EntryStream : InlineWriteStream
    {
        private readonly ZipWriter _writer;
        private readonly LocalHeader _header;
        private readonly Crc32? _crc;
        private readonly DeflateStream? _deflate;
        private readonly long _dataStart;
        private long _size;
        private bool _done;

        public EntryStream(ZipWriter writer, LocalHeader header, int compressionLevel, bool crcFromCaller)
        {
            _writer = writer;
            _header = header;
            _crc = crcFromCaller ? null : new Crc32();
            _dataStart = writer._output.Position;
            if (compressionLevel > 0)
                _deflate = new DeflateStream(new DataSink(writer),
                    new ZLibCompressionOptions { CompressionLevel = compressionLevel }, leaveOpen: true);
        }

        /// <summary>The CRC-32 of the deflated bytes as stored, once the entry is complete; null for a stored
        /// entry.</summary>
        public uint? StoredCrc32 { get; private set; }

        /// <summary>The content's CRC-32 from a caller that computes it itself (with the SHA-256, in the same pass),
        /// set before disposing; an entry opened that way and disposed without it is left out of the directory.
        /// </summary>
        public uint? ContentCrc32 { private get; set; }

        public override bool CanWrite => !_done;
        public override long Length => _size;
        public override long Position { get => _size; set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _crc?.Append(buffer);
            _size += buffer.Length;
            if (_deflate is not null) _deflate.Write(buffer);
            else _writer.WriteData(buffer);
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing && !_done)
            {
                _done = true;
                _writer._open = null;
                _deflate?.Dispose(); // writes the final deflate block
                // DeflateStream writes nothing for no input; a deflated entry needs at least the empty final block.
                if (_deflate is not null
                    && _writer._output.Position == _dataStart) _writer.WriteData(ParallelDeflateStream.EmptyFinalBlock);
                var compressedSize = _writer._output.Position - _dataStart;
                // Without a CRC-32 the caller's writing failed: the entry stays out of the directory.
                if ((_crc?.GetCurrentHashAsUInt32() ?? ContentCrc32) is { } crc)
                {
                    _writer.PatchLocalHeader(_header, crc, compressedSize, _size);
                    _writer.AddCentralRecord(_header.ToRecord(crc, compressedSize, _size));
                    StoredCrc32 = _writer.StoredCrc();
                }
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Where an entry's deflater writes: the archive, through <see cref="WriteData"/>.</summary>
    private sealed class DataSink(ZipWriter writer) : InlineWriteStream
    {
        public override bool CanWrite => true;
        public override void Write(ReadOnlySpan<byte> buffer) => writer.WriteData(buffer);
    }

    /// <summary>The compressed bytes of an entry opened by <see cref="OpenRawEntry"/>, written as they are.</summary>
    internal sealed class RawEntry : InlineWriteStream
    {
        private readonly ZipWriter _writer;
        private readonly LocalHeader _header;
        private readonly long _dataStart;
        private bool _done;

        public RawEntry(ZipWriter writer, LocalHeader header)
        {
            _writer = writer;
            _header = header;
            _dataStart = writer._output.Position;
        }

        /// <summary>
        /// Records the entry with the CRC-32 and size of the uncompressed content; the bytes written are its compressed
        /// form. Returns their CRC-32 when deflated.
        /// </summary>
        public uint? Complete(uint crc, long size)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _done = true;
            _writer._open = null;
            var compressedSize = _writer._output.Position - _dataStart;
            _writer.PatchLocalHeader(_header, crc, compressedSize, size);
            _writer.AddCentralRecord(_header.ToRecord(crc, compressedSize, size));
            return _writer.StoredCrc();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _writer.WriteData(buffer);
        }

        public override bool CanWrite => !_done;
    }
}
