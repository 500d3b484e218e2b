using System.Buffers.Binary;
using System.IO.Hashing;

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
internal sealed partial class ZipWriter : IDisposable
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
    /// unknown) decides whether Zip64 sizes are reserved. With <paramref name="crcFromCaller"/> the caller sets
    /// <see cref="EntryStream.ContentCrc32"/>.
    /// </summary>
    public EntryStream OpenEntry(string name, DateTimeOffset modifiedAt, int compressionLevel, long expectedSize,
        ZipEntryAttributes? attributes = null, bool crcFromCaller = false)
    {
        var zip64 = expectedSize < 0 || expectedSize >= Zip64Threshold;
        var method = compressionLevel == 0 ? MethodStored : MethodDeflate;
        var header = StartEntry(name, modifiedAt, method, zip64, crc: 0, compressedSize: 0, size: 0, attributes);
        var entry = new EntryStream(this, header, compressionLevel, crcFromCaller);
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

    private void AddCentralRecord(CentralRecord record)
    {
        WriteCentralRecord(record, _directory);
        _entryCount++;
    }
}
