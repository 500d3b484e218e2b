using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Archive;

/// <summary>
/// A streaming zip writer (PKWARE APPNOTE: stored and deflated entries, Zip64, UTF-8 names) for a seekable file.
/// Each local header is written first and patched with the CRC and sizes once its data is written, so no data
/// descriptors are needed and every local header repeats the central directory exactly (what
/// <see cref="ZipStructure.ReadEntries"/> demands). Unlike System.IO.Compression it also accepts an entry
/// deflated elsewhere (<see cref="AddPrecompressedAsync"/>): the database dump is compressed on another core while
/// the files are written. Entries are written one at a time. Each finished entry's central directory record goes to
/// a spill file (<see cref="SpillFile"/>) and is copied after the last entry, so memory does not grow with the number
/// of entries. For a deflated entry it also returns the CRC-32 of the bytes as stored, for the manifest: the zip's
/// own CRC covers only the content, and a damaged deflate stream can still decode to the same content.
/// </summary>
internal sealed class ZipWriter : IDisposable
{
    private const uint LocalHeaderSignature = 0x04034b50, CentralHeaderSignature = 0x02014b50;
    private const uint Zip64EndSignature = 0x06064b50, Zip64LocatorSignature = 0x07064b50, EndSignature = 0x06054b50;
    private const ushort VersionDefault = 20, VersionZip64 = 45, MadeByUnix = (3 << 8) | VersionZip64;
    private const ushort FlagUtf8 = 1 << 11, MethodStored = 0, MethodDeflate = 8;
    private const ushort ExtendedTimestampId = 0x5455, UnixOwnerId = 0x7875;
    /// <summary>Entries that may reach this size get Zip64 sizes in their local header from the start.</summary>
    private const long Zip64Threshold = uint.MaxValue / 2;

    private readonly Stream _output;
    private readonly FileStream _directory;
    private long _entryCount;
    private Stream? _open;
    private bool _finished;
    private readonly Crc32 _storedCrc = new();
    private bool _hashStored;

    internal sealed record CentralRecord(byte[] Name, ushort Version, ushort Method, uint DosTime, uint Crc,
        long CompressedSize, long Size, long Offset,
        ZipEntryAttributes Attributes, byte[] UnixExtras);

    public ZipWriter(FileStream output) : this(output, output.Name) { }

    /// <summary>Writes to <paramref name="output"/> (seekable); scratch files are named after <paramref
    /// name="scratchPath"/>.</summary>
    public ZipWriter(Stream output, string scratchPath)
    {
        if (!output.CanSeek) throw new ArgumentException("The zip writer needs a seekable file.", nameof(output));
        _output = output;
        _directory = SpillFile.Create(scratchPath + ".directory");
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// Starts an entry and returns the stream its content is written to; disposing the stream completes the entry.
    /// <paramref name="compressionLevel"/> 0 stores, 1–9 deflates. <paramref name="expectedSize"/> (or -1 when
    /// unknown) decides whether Zip64 sizes are reserved.
    /// </summary>
    public EntryStream OpenEntry(string name, DateTimeOffset modifiedAt, int compressionLevel, long expectedSize,
        ZipEntryAttributes? attributes = null)
    {
        var zip64 = expectedSize < 0 || expectedSize >= Zip64Threshold;
        var method = compressionLevel == 0 ? MethodStored : MethodDeflate;
        var header = StartEntry(name, modifiedAt, method, zip64, crc: 0, compressedSize: 0, size: 0, attributes);
        var entry = new EntryStream(this, header, compressionLevel);
        _open = entry;
        return entry;
    }

    /// <summary>
    /// Adds an entry whose content was already deflated (raw deflate, no zlib header): copies exactly
    /// <paramref name="content"/>.CompressedSize bytes from <paramref name="deflated"/>. Returns the stored bytes'
    /// CRC-32
    /// when deflated.
    /// </summary>
    public async Task<uint?> AddPrecompressedAsync(string name, DateTimeOffset modifiedAt, PrecompressedContent content,
        Stream deflated, CancellationToken cancellationToken)
    {
        var zip64 = content.Size >= Zip64Threshold || content.CompressedSize >= Zip64Threshold;
        var header = StartEntry(name, modifiedAt, content.Deflated ? MethodDeflate : MethodStored, zip64, content.Crc32,
            content.CompressedSize, content.Size, null);
        var buffer = new byte[BackupArchiveWriter.BufferSize];
        var remaining = content.CompressedSize;
        while (remaining > 0)
        {
            var read = await deflated.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)),
                cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new IOException($"The compressed content of {name} ended {remaining} bytes early.");
            WriteData(buffer.AsSpan(0, read));
            remaining -= read;
        }
        AddCentralRecord(header.ToRecord(content.Crc32, content.CompressedSize, content.Size));
        return StoredCrc();
    }

    /// <summary>
    /// Starts an entry for content compressed elsewhere whose sizes are not known yet (Zip64 sizes are reserved):
    /// its compressed bytes are written to the returned stream, then <see cref="RawEntry.Complete"/> records them.
    /// </summary>
    public RawEntry OpenRawEntry(string name, DateTimeOffset modifiedAt, bool deflated)
    {
        var header = StartEntry(name, modifiedAt, deflated ? MethodDeflate : MethodStored, zip64: true, crc: 0,
            compressedSize: 0, size: 0, null);
        var entry = new RawEntry(this, header);
        _open = entry;
        return entry;
    }

    /// <summary>Adds a folder entry (<paramref name="name"/> ends with '/'): no content, only its attributes and time,
    /// so empty folders and folder modes come back.</summary>
    public void AddDirectory(string name, DateTimeOffset modifiedAt, ZipEntryAttributes attributes)
    {
        if (!name.EndsWith('/')) throw new ArgumentException("A folder entry's name ends with '/'.", nameof(name));
        var header = StartEntry(name, modifiedAt, MethodStored, zip64: false, crc: 0, compressedSize: 0, size: 0,
            attributes);
        AddCentralRecord(header.ToRecord(0, 0, 0));
    }

    /// <summary>Writes the central directory and the end records with <paramref name="comment"/>; the file is then a
    /// complete zip.</summary>
    public void Finish(byte[] comment)
    {
        if (_open is not null) throw new InvalidOperationException("An entry is still open.");
        if (comment.Length > ushort.MaxValue) throw new ArgumentException(
            "The zip comment is longer than 65,535 bytes.", nameof(comment));
        var directoryOffset = _output.Position;
        _directory.Position = 0;
        _directory.CopyTo(_output, BackupArchiveWriter.BufferSize);
        var directorySize = _output.Position - directoryOffset;
        var zip64 = _entryCount >= ushort.MaxValue || directoryOffset >= uint.MaxValue
            || directorySize >= uint.MaxValue;
        if (zip64)
        {
            var zip64EndOffset = _output.Position;
            Span<byte> end64 = stackalloc byte[56];
            BinaryPrimitives.WriteUInt32LittleEndian(end64, Zip64EndSignature);
            BinaryPrimitives.WriteUInt64LittleEndian(end64[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(end64[12..], MadeByUnix);
            BinaryPrimitives.WriteUInt16LittleEndian(end64[14..], VersionZip64);
            BinaryPrimitives.WriteUInt64LittleEndian(end64[24..], (ulong)_entryCount);
            BinaryPrimitives.WriteUInt64LittleEndian(end64[32..], (ulong)_entryCount);
            BinaryPrimitives.WriteUInt64LittleEndian(end64[40..], (ulong)directorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(end64[48..], (ulong)directoryOffset);
            _output.Write(end64);
            Span<byte> locator = stackalloc byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, Zip64LocatorSignature);
            BinaryPrimitives.WriteUInt64LittleEndian(locator[8..], (ulong)zip64EndOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
            _output.Write(locator);
        }
        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        var count = zip64 ? ushort.MaxValue : (ushort)_entryCount;
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], zip64 ? uint.MaxValue : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], zip64 ? uint.MaxValue : (uint)directoryOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(end[20..], (ushort)comment.Length);
        _output.Write(end);
        _output.Write(comment);
        _finished = true;
    }

    private LocalHeader StartEntry(string name, DateTimeOffset modifiedAt, ushort method, bool zip64, uint crc,
        long compressedSize, long size, ZipEntryAttributes? attributes)
    {
        if (_finished) throw new InvalidOperationException("The archive is already finished.");
        if (_open is not null) throw new InvalidOperationException("Only one entry can be written at a time.");
        var header = WriteLocalHeader(name, modifiedAt, method, zip64, crc, compressedSize, size,
            attributes ?? ZipEntryAttributes.RegularFile);
        // A stored entry's bytes are its content, which the manifest's SHA-256 already covers.
        _hashStored = method == MethodDeflate;
        _storedCrc.Reset();
        return header;
    }

    /// <summary>Every byte of an entry's data goes through here.</summary>
    private void WriteData(ReadOnlySpan<byte> data)
    {
        if (_hashStored) _storedCrc.Append(data);
        _output.Write(data);
    }

    private uint? StoredCrc() => _hashStored ? _storedCrc.GetCurrentHashAsUInt32() : null;

    private LocalHeader WriteLocalHeader(string name, DateTimeOffset modifiedAt, ushort method, bool zip64, uint crc,
        long compressedSize, long size,
        ZipEntryAttributes attributes)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > ushort.MaxValue) throw new ArgumentException(
            $"The entry name is too long: {name[..80]}…", nameof(name));
        // An entry that starts past 4 GiB needs a Zip64 offset in the directory, hence version 4.5 there and here
        // alike.
        var version = zip64 || _output.Position >= uint.MaxValue ? VersionZip64 : VersionDefault;
        var unixExtras = UnixExtras(modifiedAt, attributes);
        var header = new LocalHeader(nameBytes, version, method, DosTime(modifiedAt), _output.Position, zip64,
            attributes, unixExtras);
        Span<byte> fixedPart = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, LocalHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[4..], header.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[6..], FlagUtf8);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[8..], method);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[10..], header.DosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[28..], (ushort)((zip64 ? 20 : 0) + unixExtras.Length));
        WriteSizes(fixedPart, header, crc, compressedSize, size, out var zip64Sizes);
        _output.Write(fixedPart);
        _output.Write(nameBytes);
        if (zip64) _output.Write(zip64Sizes); // first: PatchLocalHeader finds it right after the name
        _output.Write(unixExtras);
        return header;
    }

    /// <summary>Seeks back to an entry's local header and fills in what is known only after its data.</summary>
    private void PatchLocalHeader(LocalHeader header, uint crc, long compressedSize, long size)
    {
        if (!header.Zip64 && (compressedSize >= uint.MaxValue || size >= uint.MaxValue))
            throw new IOException(
                $"{Encoding.UTF8.GetString(header.Name)} grew past 4 GiB while it was read; run the backup again.");
        Span<byte> fixedPart = stackalloc byte[30];
        WriteSizes(fixedPart, header, crc, compressedSize, size, out var zip64Sizes);
        var end = _output.Position;
        _output.Seek(header.Offset + 14, SeekOrigin.Begin);
        _output.Write(fixedPart.Slice(14, 12));
        if (header.Zip64)
        {
            _output.Seek(header.Offset + 30 + header.Name.Length, SeekOrigin.Begin);
            _output.Write(zip64Sizes);
        }
        _output.Seek(end, SeekOrigin.Begin);
    }

    private static void WriteSizes(Span<byte> fixedPart, LocalHeader header, uint crc, long compressedSize, long size,
        out byte[] zip64Sizes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[14..], crc);
        // With Zip64 the 32-bit fields say "see the extra field", which then carries both sizes.
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[18..], header.Zip64 ? uint.MaxValue : (uint)compressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[22..], header.Zip64 ? uint.MaxValue : (uint)size);
        zip64Sizes = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(zip64Sizes, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(zip64Sizes.AsSpan(2), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(zip64Sizes.AsSpan(4), (ulong)size);
        BinaryPrimitives.WriteUInt64LittleEndian(zip64Sizes.AsSpan(12), (ulong)compressedSize);
    }

    private void AddCentralRecord(CentralRecord record)
    {
        WriteCentralRecord(record, _directory);
        _entryCount++;
    }

    private static void WriteCentralRecord(CentralRecord record, Stream destination)
    {
        // Zip64 fields appear only for the values that do not fit, in the order the format fixes.
        Span<byte> extra = stackalloc byte[28];
        var extraLength = 4;
        foreach (var value in (ReadOnlySpan<long>)[record.Size, record.CompressedSize, record.Offset])
        {
            if (value < uint.MaxValue) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(extra[extraLength..], (ulong)value);
            extraLength += 8;
        }
        if (extraLength == 4) extraLength = 0;
        if (extraLength > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)(extraLength - 4));
        }
        // A Zip64 field in the directory needs version 4.5 there, and the local header must say the same.
        if (extraLength > 0 && record.Version != VersionZip64)
            throw new InvalidOperationException(
                "An entry needs Zip64 in the directory but its local header did not reserve it.");

        Span<byte> fixedPart = stackalloc byte[46];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, CentralHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[4..], MadeByUnix);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[6..], record.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[8..], FlagUtf8);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[10..], record.Method);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[12..], record.DosTime);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[16..], record.Crc);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[20..], (uint)Math.Min(record.CompressedSize, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[24..], (uint)Math.Min(record.Size, uint.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[28..], (ushort)record.Name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[30..], (ushort)(extraLength + record.UnixExtras.Length));
        // The Unix mode in the high half (what unzip restores), and MS-DOS's folder flag in the low byte for folders.
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[38..],
            (record.Attributes.Mode << 16) | (record.Attributes.IsDirectory ? 0x10u : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[42..], (uint)Math.Min(record.Offset, uint.MaxValue));
        destination.Write(fixedPart);
        destination.Write(record.Name);
        destination.Write(extra[..extraLength]);
        destination.Write(record.UnixExtras);
    }

    /// <summary>
    /// Info-ZIP's extended timestamp (UTC seconds, so unzip in any time zone restores the same instant) and, when the
    /// owner is recorded, its Unix UID/GID field (what <c>unzip -X</c> restores). The same bytes in both headers.
    /// </summary>
    private static byte[] UnixExtras(DateTimeOffset modifiedAt, ZipEntryAttributes attributes)
    {
        var owner = attributes.Uid is not null && attributes.Gid is not null;
        var extras = new byte[9 + (owner ? 15 : 0)];
        BinaryPrimitives.WriteUInt16LittleEndian(extras, ExtendedTimestampId);
        BinaryPrimitives.WriteUInt16LittleEndian(extras.AsSpan(2), 5);
        extras[4] = 1; // the modification time only
        BinaryPrimitives.WriteInt32LittleEndian(extras.AsSpan(5),
            (int)Math.Clamp(modifiedAt.ToUnixTimeSeconds(), int.MinValue, int.MaxValue));
        if (owner)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(extras.AsSpan(9), UnixOwnerId);
            BinaryPrimitives.WriteUInt16LittleEndian(extras.AsSpan(11), 11);
            extras[13] = 1; // version
            extras[14] = 4;
            BinaryPrimitives.WriteUInt32LittleEndian(extras.AsSpan(15), attributes.Uid!.Value);
            extras[19] = 4;
            BinaryPrimitives.WriteUInt32LittleEndian(extras.AsSpan(20), attributes.Gid!.Value);
        }
        return extras;
    }

    /// <summary>MS-DOS date and time (2-second resolution, 1980–2107) of the clock time in <paramref
    /// name="time"/>.</summary>
    private static uint DosTime(DateTimeOffset time)
    {
        var t = time.DateTime;
        if (t.Year < 1980) t = new DateTime(1980, 1, 1);
        if (t.Year > 2107) t = new DateTime(2107, 12, 31, 23, 59, 58);
        var date = ((t.Year - 1980) << 9) | (t.Month << 5) | t.Day;
        var clock = (t.Hour << 11) | (t.Minute << 5) | (t.Second / 2);
        return (uint)((date << 16) | clock);
    }

    internal sealed record LocalHeader(byte[] Name, ushort Version, ushort Method, uint DosTime, long Offset,
        bool Zip64, ZipEntryAttributes Attributes, byte[] UnixExtras)
    {
        public CentralRecord ToRecord(uint crc, long compressedSize, long size) =>
            new(Name, Version, Method, DosTime, crc, compressedSize, size, Offset, Attributes, UnixExtras);
    }

    /// <summary>Content of one entry: computes the CRC-32, deflates when asked, and completes the entry on
    /// dispose.</summary>
    internal sealed class EntryStream : InlineWriteStream
    {
        private readonly ZipWriter _writer;
        private readonly LocalHeader _header;
        private readonly Crc32 _crc = new();
        private readonly DeflateStream? _deflate;
        private readonly long _dataStart;
        private long _size;
        private bool _done;

        public EntryStream(ZipWriter writer, LocalHeader header, int compressionLevel)
        {
            _writer = writer;
            _header = header;
            _dataStart = writer._output.Position;
            if (compressionLevel > 0)
                _deflate = new DeflateStream(new DataSink(writer),
                    new ZLibCompressionOptions { CompressionLevel = compressionLevel }, leaveOpen: true);
        }

        /// <summary>The CRC-32 of the deflated bytes as stored, once the entry is complete; null for a stored
        /// entry.</summary>
        public uint? StoredCrc32 { get; private set; }

        public override bool CanWrite => !_done;
        public override long Length => _size;
        public override long Position { get => _size; set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _crc.Append(buffer);
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
                var crc = _crc.GetCurrentHashAsUInt32();
                _writer.PatchLocalHeader(_header, crc, compressedSize, _size);
                _writer.AddCentralRecord(_header.ToRecord(crc, compressedSize, _size));
                StoredCrc32 = _writer.StoredCrc();
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

/// <summary>An entry's content deflated (or stored) ahead of time, with what its zip headers need.</summary>
internal sealed record PrecompressedContent(bool Deflated, uint Crc32, long Size, long CompressedSize, string Sha256);

/// <summary>Unix attributes of an entry: <see cref="Mode"/> is st_mode (type and permission bits); the owner only where
/// recorded.</summary>
internal sealed record ZipEntryAttributes(uint Mode, uint? Uid = null, uint? Gid = null)
{
    /// <summary>S_IFREG | 0644: an ordinary readable file, for entries that are not a backed-up file (dump,
    /// manifest).</summary>
    public static readonly ZipEntryAttributes RegularFile = new(0x81A4);
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
}
