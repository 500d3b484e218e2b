using System.Collections;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Manifest entries appended to a spill file and read back, in order: by the writer when the manifest is serialized,
/// by the reader as the manifest's <see cref="BackupManifest.Entries"/>. Only enumeration is supported;
/// <see cref="Count"/> and <see cref="Bytes"/> are kept as entries are added. Once adding is done, several threads may
/// enumerate at once: each enumeration reads at its own offset.
/// </summary>
internal sealed class SpilledManifestEntries(string path) : IReadOnlyList<ManifestEntry>, IDisposable
{
    private readonly FileStream _file = SpillFile.Create(path);
    private BinaryWriter? _writer;
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

    public int Count { get; private set; }
    public long Bytes { get; private set; }

    public void Add(ManifestEntry entry)
    {
        _writer ??= new BinaryWriter(_file, System.Text.Encoding.UTF8, leaveOpen: true);
        _writer.Write(entry.Path);
        _writer.Write(entry.Size);
        _writer.Write(entry.Sha256);
        _writer.Write(entry.ModifiedAt is { } at);
        if (entry.ModifiedAt is { } modified)
        {
            _writer.Write(modified.UtcTicks);
            _writer.Write((short)modified.Offset.TotalMinutes);
        }
        _writer.Write(entry.StoredCrc32 is not null);
        if (entry.StoredCrc32 is { } crc) _writer.Write(crc);
        _writer.Write(entry.Mode ?? "");
        _writer.Write(entry.Uid is not null && entry.Gid is not null);
        if (entry is { Uid: { } uid, Gid: { } gid }) { _writer.Write(uid); _writer.Write(gid); }
        Count++;
        Bytes += entry.Size;
    }

    /// <summary>Ends adding: what was added is flushed to the file, for enumerations on other threads.</summary>
    public void Seal()
    {
        _writer?.Dispose();
        _writer = null;
        _handle = _file.SafeFileHandle;
    }

    public ManifestEntry this[int index] =>
        throw new NotSupportedException("Spilled manifest entries can only be enumerated.");

    public IEnumerator<ManifestEntry> GetEnumerator()
    {
        _writer?.Flush();
        using var reader = new BinaryReader(RangeStream.OpenWhole(_handle ?? _file.SafeFileHandle),
            System.Text.Encoding.UTF8);
        for (var i = 0; i < Count; i++)
        {
            var entryPath = reader.ReadString();
            var size = reader.ReadInt64();
            var sha256 = reader.ReadString();
            DateTimeOffset? modified = null;
            if (reader.ReadBoolean())
            {
                var ticks = reader.ReadInt64();
                var offset = TimeSpan.FromMinutes(reader.ReadInt16());
                modified = new DateTimeOffset(ticks + offset.Ticks, offset);
            }
            uint? storedCrc = reader.ReadBoolean() ? reader.ReadUInt32() : null;
            var mode = reader.ReadString();
            (uint? uid, uint? gid) = reader.ReadBoolean() ? (reader.ReadUInt32(),
                reader.ReadUInt32()) : ((uint?)null, (uint?)null);
            yield return new ManifestEntry(entryPath, size, sha256, modified,
                storedCrc) { Mode = mode.Length == 0 ? null : mode, Uid = uid, Gid = gid };
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        _writer?.Dispose();
        _file.Dispose();
    }
}
