using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// An archive's zip directory, kept for lookups by name without holding it: each entry's record waits in a spill file
/// (<see cref="SpillFile"/>) and memory holds 16 bytes an entry (a hash of its name and where its record is), sorted
/// for a binary search. Built by <see cref="Add"/> then <see cref="Seal"/>; then <see cref="MarkListed"/> joins it to
/// the manifest's entries in their order, and <see cref="InManifestOrder"/> gives them back in that order without a
/// lookup each. After that it is read-only and may be used from several threads at once (records are read at their
/// offset, not through a shared position).
/// </summary>
internal sealed class ArchiveDirectoryIndex : IDisposable
{
    private const int FixedBytes = 1 + 4 + 8 + 8 + 8 + 2; // deflated, CRC-32, data offset, sizes, name length
    /// <summary>Per process: names crafted to share a hash (and make every lookup compare them all) need it.</summary>
    private static readonly long Seed = Random.Shared.NextInt64();
    private readonly FileStream _spill;
    /// <summary>The records again, in the manifest's order, as <see cref="MarkListed"/> found them.</summary>
    private readonly FileStream _joined;
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _spillHandle, _joinedHandle;
    private ulong[] _hashes = new ulong[1024];
    private long[] _offsets = new long[1024];
    /// <summary>Each sorted slot's place in the archive: what <see cref="MarkListed"/> marks.</summary>
    private int[] _places = [];
    private Stream? _inOrder;
    private int _nextPlace;
    private System.Collections.BitArray? _listed;

    public ArchiveDirectoryIndex(string spillPath)
    {
        _spill = SpillFile.Create(spillPath);
        try { _joined = SpillFile.Create(spillPath + ".joined"); }
        catch
        {
            _spill.Dispose();
            throw;
        }
    }

    public int Count { get; private set; }

    public void Add(ZipStructure.Entry entry)
    {
        var name = Encoding.UTF8.GetBytes(entry.Name);
        if (Count == _hashes.Length)
        {
            Array.Resize(ref _hashes, Count * 2);
            Array.Resize(ref _offsets, Count * 2);
        }
        _hashes[Count] = XxHash64.HashToUInt64(name, Seed);
        _offsets[Count] = _spill.Position;
        Count++;
        Write(_spill, entry, name);
    }

    private static void Write(FileStream spill, ZipStructure.Entry entry, ReadOnlySpan<byte> name)
    {
        Span<byte> head = stackalloc byte[FixedBytes];
        head[0] = entry.Deflated ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(head[1..], entry.Crc32);
        BinaryPrimitives.WriteInt64LittleEndian(head[5..], entry.DataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(head[13..], entry.CompressedSize);
        BinaryPrimitives.WriteInt64LittleEndian(head[21..], entry.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(head[29..], (ushort)name.Length);
        spill.Write(head);
        spill.Write(name);
    }

    /// <summary>Ends <see cref="Add"/>: sorts the index; returns the name of an entry that appears twice, or null.
    /// </summary>
    public string? Seal()
    {
        _spill.Flush();
        _spillHandle = _spill.SafeFileHandle;
        Array.Resize(ref _hashes, Count);
        Array.Resize(ref _offsets, Count);
        // One sort of the places, so that a slot's offset and place stay paired even among equal hashes.
        _places = new int[Count];
        for (var i = 0; i < Count; i++) _places[i] = i;
        Array.Sort(_hashes, _places);
        var offsets = new long[Count];
        for (var slot = 0; slot < Count; slot++) offsets[slot] = _offsets[_places[slot]];
        _offsets = offsets;
        _listed = new System.Collections.BitArray(Count);
        for (var i = 1; i < Count; i++)
        {
            if (_hashes[i] != _hashes[i - 1]) continue;
            // Names that share a hash: compare them all (a real duplicate, or a collision of two names).
            for (var j = i - 1; j >= 0 && _hashes[j] == _hashes[i]; j--)
                if (Read(_offsets[j]).Name == Read(_offsets[i]).Name) return Read(_offsets[i]).Name;
        }
        return null;
    }

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public ZipStructure.Entry? Find(string name) => Slot(name, out var entry) is not null ? entry : null;

    /// <summary>Marks <paramref name="name"/> as listed by the manifest; false when it is not in the directory or was
    /// marked before (<paramref name="twice"/>).</summary>
    public bool MarkListed(string name, out ZipStructure.Entry? entry, out bool twice)
    {
        twice = false;
        // The manifest lists entries in the archive's order: read the directory along with it, and look up by name
        // only an entry found elsewhere.
        _inOrder ??= RangeStream.OpenWhole(_spillHandle!);
        int place;
        if (_nextPlace < Count && ReadNext(_inOrder) is { } next && next.Name == name)
        {
            entry = next;
            place = _nextPlace++;
        }
        else
        {
            _nextPlace = Count; // out of step: lookups from here on
            if (Slot(name, out entry) is not { } slot) return false;
            place = _places[slot];
        }
        twice = _listed!.Get(place);
        _listed.Set(place, true);
        if (!twice) Write(_joined, entry!, []);
        return !twice;
    }

    /// <summary>Ends <see cref="MarkListed"/>: its records become readable by <see cref="InManifestOrder"/>.</summary>
    public void EndJoin()
    {
        _joined.Flush();
        _joinedHandle = _joined.SafeFileHandle; // taken once: the getter flushes, not for two threads at once
        _inOrder?.Dispose();
        _inOrder = null;
    }

    /// <summary>The records <see cref="MarkListed"/> found, in its order, read sequentially (names left empty: they
    /// are the manifest's paths).</summary>
    public IEnumerable<ZipStructure.Entry> InManifestOrder()
    {
        using var reader = RangeStream.OpenWhole(_joinedHandle!);
        var head = new byte[FixedBytes];
        while (reader.ReadAtLeast(head, FixedBytes, throwOnEndOfStream: false) == FixedBytes) yield return Parse("",
            head);
    }

    /// <summary>The first entry in the archive's order that <see cref="MarkListed"/> never marked, other than
    /// <paramref name="except"/>; null when every one was.</summary>
    public string? FirstUnlisted(string except)
    {
        using var records = RangeStream.OpenWhole(_spillHandle!);
        for (var place = 0; place < Count; place++)
        {
            var name = ReadNext(records)!.Name;
            if (!_listed!.Get(place) && name != except) return name;
        }
        return null;
    }

    private int? Slot(string name, out ZipStructure.Entry? entry)
    {
        entry = null;
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name), Seed);
        var slot = Array.BinarySearch(_hashes, hash);
        if (slot < 0) return null;
        while (slot > 0 && _hashes[slot - 1] == hash) slot--;
        for (; slot < Count && _hashes[slot] == hash; slot++)
        {
            var candidate = Read(_offsets[slot]);
            if (candidate.Name == name) { entry = candidate; return slot; }
        }
        return null;
    }

    private static ZipStructure.Entry? ReadNext(Stream records)
    {
        Span<byte> head = stackalloc byte[FixedBytes];
        if (records.ReadAtLeast(head, FixedBytes, throwOnEndOfStream: false) < FixedBytes) return null;
        var name = new byte[BinaryPrimitives.ReadUInt16LittleEndian(head[29..])];
        records.ReadExactly(name);
        return Parse(Encoding.UTF8.GetString(name), head);
    }

    /// <summary>One record, in one read when its name is under 225 bytes (nearly always).</summary>
    private ZipStructure.Entry Read(long offset)
    {
        Span<byte> record = stackalloc byte[256];
        var read = RandomAccess.Read(_spillHandle!, record, offset);
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record[29..]);
        if (FixedBytes + nameLength <= read)
            return Parse(Encoding.UTF8.GetString(record.Slice(FixedBytes, nameLength)), record);
        var name = new byte[nameLength];
        RandomAccess.Read(_spillHandle!, name, offset + FixedBytes);
        return Parse(Encoding.UTF8.GetString(name), record);
    }

    private static ZipStructure.Entry Parse(string name, ReadOnlySpan<byte> head) => new(name, head[0] == 1,
        BinaryPrimitives.ReadUInt32LittleEndian(head[1..]), BinaryPrimitives.ReadInt64LittleEndian(head[5..]),
        BinaryPrimitives.ReadInt64LittleEndian(head[13..]), BinaryPrimitives.ReadInt64LittleEndian(head[21..]));

    public void Dispose()
    {
        _inOrder?.Dispose();
        _spill.Dispose();
        _joined.Dispose();
    }
}
