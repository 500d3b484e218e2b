using System.Buffers.Binary;
using System.Security.Cryptography;

namespace BackupManager.Core.Archive;

/// <summary>
/// Byte-level integrity of the zip container, so that no byte of an archive goes unchecked: entry contents are covered
/// by the manifest's SHA-256s and deflated entries' stored bytes by its CRC-32s (a flip in a deflate stream's padding
/// leaves the content intact but is still damage), the central directory and end records by
/// <see cref="DirectoryHash"/> (recorded in the summary comment), every local header by <see cref="ReadEntries"/>
/// against the central directory, and the comment by its own checksum line. Works on Zip64 archives too.
/// </summary>
internal static class ZipStructure
{
    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const ushort MethodStored = 0, MethodDeflate = 8;

    /// <summary>Where the central directory starts and where the end-of-central-directory record is.</summary>
    public sealed record Layout(long DirectoryOffset, long EndRecordOffset);

    public static Layout Locate(Stream stream, long endRecordOffset)
    {
        Span<byte> end = stackalloc byte[22];
        ReadAt(stream, endRecordOffset, end);
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        if (directoryOffset == uint.MaxValue)
        {
            Span<byte> locator = stackalloc byte[20];
            ReadAt(stream, endRecordOffset - 20, locator);
            if (BinaryPrimitives.ReadUInt32LittleEndian(
                locator) != Zip64LocatorSignature) throw new InvalidDataException("the Zip64 locator is missing");
            Span<byte> zip64End = stackalloc byte[56];
            ReadAt(stream, (long)BinaryPrimitives.ReadUInt64LittleEndian(locator[8..]), zip64End);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64End) != Zip64EndSignature) throw new InvalidDataException(
                "the Zip64 end record is damaged");
            directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64End[48..]);
        }
        if (directoryOffset < 0
            || directoryOffset > endRecordOffset) throw new InvalidDataException(
            "the central directory offset is out of range");
        return new Layout(directoryOffset, endRecordOffset);
    }

    /// <summary>SHA-256 of the central directory, the Zip64 end records and the end record up to (not including) the
    /// comment length.</summary>
    public static string DirectoryHash(Stream stream, Layout layout)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        stream.Seek(layout.DirectoryOffset, SeekOrigin.Begin);
        var remaining = layout.EndRecordOffset + 20 - layout.DirectoryOffset;
        while (remaining > 0)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0) throw new InvalidDataException("the file ends inside the central directory");
            hash.AppendData(buffer, 0, read);
            remaining -= read;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Where an entry's stored bytes are (<see cref="DataOffset"/>, <see cref="CompressedSize"/>), how they decode, and
    /// the CRC-32 of the content that the zip headers give (what <c>unzip -t</c> checks).
    /// </summary>
    public sealed record Entry(string Name, bool Deflated, uint Crc32, long DataOffset, long CompressedSize, long Size);

    /// <summary>The entries, or why the container is damaged (then <see cref="Entries"/> is empty).</summary>
    public sealed record Directory(IReadOnlyList<Entry> Entries, string? Problem);

    /// <summary>
    /// Walks the central directory and checks that each local header repeats it exactly (name, method, flags, time,
    /// CRC and sizes), that every entry is stored or deflated, and that entries follow each other with no gap up to the
    /// central directory. Returns the entries in archive order.
    /// </summary>
    public static Directory ReadEntries(Stream stream, Layout layout)
    {
        var entries = new List<Entry>();
        var problem = Walk(stream, layout, entries.Add);
        return problem is null ? new Directory(entries, null) : new Directory([], problem);
    }

    /// <summary>As <see cref="ReadEntries"/>, handing each checked entry to <paramref name="found"/> in archive order
    /// instead of keeping them: the directory is read through a window, so memory does not grow with the number of
    /// entries. Returns why the container is damaged, or null.</summary>
    public static string? Walk(Stream stream, Layout layout, Action<Entry> found)
    {
        var window = new DirectoryWindow(stream, layout);
        var expectedOffset = 0L;
        var local = new byte[30];
        while (window.Has(46)
            && BinaryPrimitives.ReadUInt32LittleEndian(window.Span) == CentralHeaderSignature)
        {
            var fixedPart = window.Span;
            var length = 46 + BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[28..])
                + BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[30..])
                + BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[32..]);
            if (!window.Has(length)) return "the central directory ends inside an entry's record";
            var record = window.Span;
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record[30..]);
            var name = record.Slice(46, nameLength);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(record[24..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(record[42..]);
            ReadZip64(record.Slice(46 + nameLength, extraLength), ref uncompressed, ref compressed, ref offset);
            var label = System.Text.Encoding.UTF8.GetString(name);
            if (offset != expectedOffset) return $"the bytes before the entry '{label}' are not where the directory "
                + $"says";
            if (method is not (
                MethodStored or MethodDeflate)) return $"the entry '{label}' uses compression method {method}, which "
                + $"BackupManager never writes";
            ReadAt(stream, offset, local);
            if (BinaryPrimitives.ReadUInt32LittleEndian(
                local) != LocalHeaderSignature) return $"the local header of '{label}' is damaged";
            // version needed, flags, method, time, date and CRC sit at the same relative places in both headers.
            if (!local.AsSpan(4,
                14).SequenceEqual(record.Slice(6,
                14))) return $"the local header of '{label}' disagrees with the central directory";
            var localNameLength = BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(26));
            var localExtraLength = BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(28));
            var localRest = new byte[localNameLength + localExtraLength];
            ReadAt(stream, offset + 30, localRest);
            if (!localRest.AsSpan(0,
                localNameLength)
                .SequenceEqual(name)) return $"the local name of '{label}' disagrees with the central directory";
            long localCompressed = BinaryPrimitives.ReadUInt32LittleEndian(local.AsSpan(18));
            long localUncompressed = BinaryPrimitives.ReadUInt32LittleEndian(local.AsSpan(22));
            long ignored = 0;
            ReadZip64(localRest.AsSpan(localNameLength), ref localUncompressed, ref localCompressed, ref ignored);
            if ((flags & 0x8) == 0 && (localCompressed != compressed || localUncompressed != uncompressed))
                return $"the sizes in the local header of '{label}' disagree with the central directory";
            if (localRest.Length > localNameLength && !HasOnlyKnownExtras(localRest.AsSpan(localNameLength)))
                return $"the local header of '{label}' has unexpected extra data";
            // Time and owner fields are written alike in both headers; the central copy is covered by the directory
            // hash.
            if (!WithoutZip64(localRest.AsSpan(localNameLength))
                .SequenceEqual(WithoutZip64(record.Slice(46 + nameLength, extraLength))))
                return $"the time or owner fields in the local header of '{label}' disagree with the central directory";

            var dataOffset = offset + 30 + localNameLength + localExtraLength;
            expectedOffset = dataOffset + compressed;
            if ((flags & 0x8) != 0) return $"the entry '{label}' uses a data descriptor, which BackupManager never "
                + $"writes";
            if (compressed < 0 || uncompressed < 0
                || expectedOffset > layout.DirectoryOffset) return $"the sizes of '{label}' reach past the central "
                + $"directory";
            found(new Entry(label, method == MethodDeflate, crc, dataOffset, compressed, uncompressed));
            window.Advance(length);
        }
        if (!window.AtEnd && !IsZip64EndRecords(window.Rest())) return "the central directory has trailing bytes";
        return expectedOffset == layout.DirectoryOffset
            ? null : "there are stray bytes between the last entry and the central directory";
    }

    private static bool IsZip64EndRecords(ReadOnlySpan<byte> tail) =>
        tail.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(tail) == Zip64EndSignature;

    /// <summary>Zip64 sizes, Info-ZIP's extended timestamp and Unix owner: the extra fields BackupManager
    /// writes.</summary>
    private static bool HasOnlyKnownExtras(ReadOnlySpan<byte> extra)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (id is not (0x0001 or 0x5455 or 0x7875) || 4 + size > extra.Length) return false;
            extra = extra[(4 + size)..];
        }
        return extra.Length == 0;
    }

    /// <summary>The extra fields other than Zip64's (whose local and central forms differ by design), as they
    /// stand.</summary>
    private static byte[] WithoutZip64(ReadOnlySpan<byte> extra)
    {
        var kept = new List<byte>();
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = Math.Min(4 + BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]), extra.Length);
            if (id != 0x0001) kept.AddRange(extra[..size]);
            extra = extra[size..];
        }
        kept.AddRange(extra);
        return kept.ToArray();
    }

    private static void ReadZip64(ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long offset)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (4 + size > extra.Length) return;
            if (id == 0x0001)
            {
                var data = extra.Slice(4, size);
                if (uncompressed == uint.MaxValue
                    && data.Length >= 8) { uncompressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(data); data =
                    data[8..]; }
                if (compressed == uint.MaxValue
                    && data.Length >= 8) { compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(data); data =
                    data[8..]; }
                if (offset == uint.MaxValue
                    && data.Length >= 8) offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(data);
            }
            extra = extra[(4 + size)..];
        }
    }

    private static void ReadAt(Stream stream, long offset, Span<byte> buffer)
    {
        if (offset < 0) throw new InvalidDataException("an offset points before the start of the file");
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(buffer);
    }

    /// <summary>The central directory read through a 1 MiB window that slides forward (a record is at most 192 KiB).
    /// </summary>
    private sealed class DirectoryWindow(Stream stream, Layout layout)
    {
        private readonly byte[] _buffer = new byte[1 << 20];
        private readonly long _length = layout.EndRecordOffset - layout.DirectoryOffset;
        private long _bufferStart; // directory offset of _buffer[0]
        private int _filled, _position;

        public Span<byte> Span => _buffer.AsSpan(_position, _filled - _position);
        public bool AtEnd => _bufferStart + _position >= _length;

        /// <summary>Whether <paramref name="count"/> bytes of the directory follow where the record starts.</summary>
        public bool Has(int count)
        {
            if (_filled - _position >= count) return true;
            _bufferStart += _position;
            Array.Copy(_buffer, _position, _buffer, 0, _filled - _position);
            _filled -= _position;
            _position = 0;
            var wanted = (int)Math.Min(_buffer.Length - _filled, _length - _bufferStart - _filled);
            if (wanted > 0) ReadAt(stream, layout.DirectoryOffset + _bufferStart + _filled,
                _buffer.AsSpan(_filled, wanted));
            _filled += Math.Max(0, wanted);
            return _filled >= count;
        }

        public void Advance(int count) => _position += count;

        public ReadOnlySpan<byte> Rest()
        {
            Has(4);
            return Span;
        }
    }
}
