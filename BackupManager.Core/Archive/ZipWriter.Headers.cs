using System.Buffers.Binary;
using System.Text;

namespace BackupManager.Core.Archive;

internal sealed partial class ZipWriter
{
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
}
