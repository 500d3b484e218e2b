using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace BackupManager.Core.Archive;

/// <summary>
/// Content-defined cut points (a gear rolling hash, as FastCDC): a stream is cut where its last 64 bytes hash to a
/// value with the top bits of <c>mask</c> zero, at least <c>min</c> and at most <c>max</c> bytes after the previous
/// cut.
/// Because a cut depends only on nearby content, an insertion or a change early in a stream moves the cuts around it
/// and the rest fall where they fell before, so unchanged content is cut — and then compressed or stored — the
/// same.
/// Used for the dump's deflate chunks (which makes the compressed dump "rsyncable") and the off-site pieces.
/// </summary>
internal struct GearCutter(long min, long max, int maskBits)
{
    private static readonly ulong[] Gear = MakeGear();
    private readonly ulong _mask = ~0UL << (64 - maskBits);
    private ulong _hash;

    /// <summary>Bytes since the last cut.</summary>
    public long Length { get; private set; }

    private static ulong[] MakeGear()
    {
        // Fixed, so every installation and every version cuts the same content the same way.
        var gear = new ulong[256];
        for (var i = 0; i < 256; i++) gear[i] =
            BinaryPrimitives.ReadUInt64LittleEndian(
            SHA256.HashData(Encoding.ASCII.GetBytes($"backupmanager gear {i}")));
        return gear;
    }

    /// <summary>
    /// Takes the next bytes. True when a cut falls after the first <paramref name="consumed"/> of them (the count
    /// starts again from zero); false when all of them belong to the current piece.
    /// </summary>
    public bool Next(ReadOnlySpan<byte> data, out int consumed)
    {
        // The hash only looks at the last 64 bytes, so bytes well before the minimum need no hashing.
        var skip = (int)Math.Clamp(min - 64 - Length, 0, data.Length);
        var hash = _hash;
        for (var i = skip; i < data.Length; i++)
        {
            hash = (hash << 1) + Gear[data[i]];
            var length = Length + i + 1;
            if (length >= max || (length >= min && (hash & _mask) == 0))
            {
                consumed = i + 1;
                (_hash, Length) = (0, 0);
                return true;
            }
        }
        _hash = hash;
        Length += data.Length;
        consumed = data.Length;
        return false;
    }
}
