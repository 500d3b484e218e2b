using BackupManager.Core.Archive;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Where an entry's stored bytes are cut into off-site pieces. In a deflated entry, right after every sync-flush
/// marker (<c>00 00 FF FF</c>) at least <see cref="MinMarkerPiece"/> after the previous cut: the database dump is
/// deflated in content-defined chunks of about 1 MiB of dump, each ending with that marker, so a piece holds whole
/// chunks and a changed row changes only the piece of its own chunk. Elsewhere (and between markers far apart) where
/// <see cref="OffsiteFormat.NewCutter"/> says, as in format 1: files stored before keep their pieces, and their names.
/// A marker found inside other data only adds a cut, which costs a little space, never correctness.
/// With <c>headCut</c> the first marker ends the first piece however short: the dump's and the manifest's head chunk,
/// which changes in every backup, is then sent again alone.
/// </summary>
internal struct PieceCutter(bool deflated, bool headCut = false)
{
    /// <summary>Markers closer than this to the previous cut are passed over: a run of tiny chunks (a table of
    /// zeros) then makes one piece, not many requests.</summary>
    internal const int MinMarkerPiece = 64 << 10;
    private static ReadOnlySpan<byte> Marker => [0x00, 0x00, 0xFF, 0xFF];
    private GearCutter _gear = OffsiteFormat.NewCutter();
    private long _length;
    // The last three bytes before the current data, for a marker that spans two reads.
    private uint _carry;
    private int _carried;
    private int _minimum = headCut ? 0 : MinMarkerPiece;

    /// <summary>
    /// Takes the next bytes. True when a cut falls after the first <paramref name="consumed"/> of them (the count
    /// starts again from zero); false when all of them belong to the current piece.
    /// </summary>
    public bool Next(ReadOnlySpan<byte> data, out int consumed)
    {
        var markerEnd = deflated ? FindMarkerEnd(data) : -1;
        var limit = markerEnd < 0 ? data.Length : markerEnd;
        if (_gear.Next(data[..limit], out consumed) || markerEnd >= 0)
        {
            (_gear, _length, _carry, _carried, _minimum) = (OffsiteFormat.NewCutter(), 0, 0, 0, MinMarkerPiece);
            return true;
        }
        _length += data.Length;
        Carry(data);
        return false;
    }

    /// <summary>The index just after the first marker that ends in <paramref name="data"/> at or past the minimum
    /// piece length, or -1.</summary>
    private readonly int FindMarkerEnd(ReadOnlySpan<byte> data)
    {
        var from = (int)Math.Clamp(_minimum - _length - Marker.Length, 0, data.Length);
        if (from == 0 && _carried > 0)
        {
            // A marker that starts in the carried bytes and ends in these.
            Span<byte> joined = stackalloc byte[6];
            for (var i = 0; i < _carried; i++) joined[i] = (byte)(_carry >> (8 * (_carried - 1 - i)));
            var head = Math.Min(3, data.Length);
            data[..head].CopyTo(joined[_carried..]);
            var at = joined[..(_carried + head)].IndexOf(Marker);
            if (at >= 0 && _length - _carried + at + Marker.Length >= _minimum)
                return at + Marker.Length - _carried;
        }
        for (var start = from; start < data.Length;)
        {
            var at = data[start..].IndexOf(Marker);
            if (at < 0) return -1;
            var end = start + at + Marker.Length;
            if (_length + end >= _minimum) return end;
            start += at + 1;
        }
        return -1;
    }

    private void Carry(ReadOnlySpan<byte> data)
    {
        foreach (var b in data[Math.Max(0, data.Length - 3)..]) _carry = (_carry << 8) | b;
        _carried = Math.Min(3, _carried + data.Length);
        _carry &= _carried == 3 ? 0xFFFFFFu : (1u << (8 * _carried)) - 1;
    }
}
