using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

internal sealed partial class BackupArchiveReader
{
    /// <summary>
    /// An entry's bytes as stored, read from its place in the file (sharing the file's position with other entries,
    /// so one is read at a time, as with System.IO.Compression), CRC-32 checked when <c>expectedCrc</c> is given;
    /// <see cref="Content"/> decodes them.
    /// </summary>
    private sealed class StoredBytes : Stream
    {
        private readonly UncachedFileReader _file;
        private readonly ZipStructure.Entry _entry;
        private readonly uint? _expectedCrc;
        private readonly System.IO.Hashing.Crc32? _crc;
        private long _read;

        public StoredBytes(UncachedFileReader file, ZipStructure.Entry entry, uint? expectedCrc)
        {
            _file = file;
            _entry = entry;
            _expectedCrc = expectedCrc;
            if (expectedCrc is not null) _crc = new System.IO.Hashing.Crc32();
            Content = entry.Deflated ? new StrictInflateStream(this) : this;
        }

        public Stream Content { get; }

        /// <summary>Once the content is read to its end: reads what the decoder left (a deflate stream's tail) and
        /// checks the CRC-32.</summary>
        public string? Problem()
        {
            Span<byte> rest = stackalloc byte[4096]; // usually nothing is left: a few bytes of a deflate stream at most
            while (Read(rest) > 0) { }
            if (_read != _entry.CompressedSize) return $"its stored bytes end {_entry.CompressedSize - _read} bytes "
                + $"early";
            return _crc is not null && _crc.GetCurrentHashAsUInt32() != _expectedCrc
                ? "its stored bytes do not match their CRC-32" : null;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var wanted = (int)Math.Min(buffer.Length, _entry.CompressedSize - _read);
            if (wanted <= 0) return 0;
            var at = _entry.DataOffset + _read;
            if (_file.Position != at) _file.Position = at;
            var read = _file.Read(buffer[..wanted]);
            _crc?.Append(buffer[..read]);
            _read += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _entry.CompressedSize;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Content != this) Content.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>An entry's content, checked at its end: length, SHA-256 (unless <paramref name="checkSha256"/> is
    /// false: then the CRC-32 alone), the zip headers' CRC-32 and what the stored bytes left.</summary>
    private sealed class VerifiedEntryStream(StoredBytes stored, uint headerCrc, ManifestEntry recorded,
        string filename, bool checkSha256 = true) : Stream
    {
        private readonly HashingStream _hashing = new(stored.Content, forRead: true, withCrc32: true, checkSha256);
        private bool _checked;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => recorded.Size;
        public override long Position { get => _hashing.BytesHashed; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read;
            try { read = _hashing.Read(buffer); }
            catch (InvalidDataException e) { throw Damaged(filename,
                $"the entry '{recorded.Path}' cannot be decompressed ({e.Message})"); }
            return Check(read);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            int read;
            try { read = await _hashing.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
            catch (InvalidDataException e) { throw Damaged(filename,
                $"the entry '{recorded.Path}' cannot be decompressed ({e.Message})"); }
            return Check(read);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Check(int read)
        {
            if (_hashing.BytesHashed > recorded.Size)
                throw Damaged(filename, $"the entry '{recorded.Path}' is longer than the manifest records");
            if (read == 0 && !_checked)
            {
                _checked = true;
                if (!checkSha256 && _hashing.BytesHashed != recorded.Size)
                    throw Damaged(filename, $"the entry '{recorded.Path}' is shorter than the manifest records");
                if (_hashing.BytesHashed != recorded.Size || checkSha256 && _hashing.HashHex() != recorded.Sha256)
                    throw Damaged(filename, $"the entry '{recorded.Path}' does not match its SHA-256 checksum");
                if (_hashing.Crc32 != headerCrc)
                    throw Damaged(filename,
                        $"the entry '{recorded.Path}' does not match the CRC-32 in its zip headers (unzip would "
                        + $"refuse it)");
                if (stored.Problem() is { } problem) throw Damaged(filename,
                    $"the entry '{recorded.Path}' is damaged: {problem}");
            }
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hashing.Dispose();
                stored.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
