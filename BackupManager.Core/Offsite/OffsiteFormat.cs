using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using BackupManager.Core.Archive;

namespace BackupManager.Core.Offsite;

/// <summary>
/// The off-site format, version 1 (documented in docs/backup-procedures.md). At a destination:
/// <list type="bullet">
/// <item><c>data/&lt;2 hex&gt;/&lt;64 hex&gt;</c>: one stored byte range of an archive (a piece of a large entry's
/// compressed bytes, or a pack of small files with their headers), as an age file. Its name is an HMAC-SHA256,
/// under the installation's naming key, of the range's SHA-256, so equal content is stored once and names reveal no
/// plaintext hash.</item>
/// <item><c>backups/&lt;archive&gt;.index</c>: an age file of the gzipped JSON <see cref="ArchiveIndex"/>: the archive
/// as a list of segments (inline bytes for headers and a central directory up to 1 MiB, object references for entry
/// data and a larger central directory), enough to rebuild the original zip byte for byte, with its SHA-256.</item>
/// <item><c>backups/&lt;archive&gt;.json</c>: the plaintext <see cref="BackupCatalog"/> (what the list shows, the
/// stored size and SHA-256 of the index and of every object it needs). Written last: a backup is at a destination
/// exactly when its catalog is.</item>
/// <item><c>keys/naming-&lt;id&gt;.age</c>: the naming key, encrypted to the recipients, so an installation restored
/// from the destination keeps naming content the same way (and sends only what is new).</item>
/// </list>
/// </summary>
public static class OffsiteFormat
{
    public const int Version = 1;
    /// <summary>Entry data smaller than this stays inline in the index: an object costs a request and an age
    /// header.</summary>
    internal const int MinObjectBytes = 1024;
    /// <summary>
    /// Entry data larger than <see cref="MinCutBytes"/> (the database dump, a CT volume) is cut into pieces where its
    /// content says (<see cref="GearCutter"/>), between <see cref="MinCutBytes"/> and <see cref="MaxObjectBytes"/>, on
    /// average about 2 MiB: with the dump's content-defined deflate chunks, a change in the database changes only the
    /// pieces around it, where fixed-size pieces would all shift.
    /// </summary>
    internal const long MaxObjectBytes = 64L << 20;
    internal const long MinCutBytes = 1L << 20;

    /// <summary>
    /// Small files travel together: consecutive entries under <c>files/</c> smaller than <see cref="MinCutBytes"/>,
    /// their headers included, make one object of up to <see cref="MaxPackBytes"/>, ended after an entry whose name,
    /// CRC and size say so (<see cref="EndsPack"/>) once at least <see cref="MinPackBytes"/>: a new or changed file
    /// changes its own pack, and the next one or two only while their ends fall back into step. One object per file
    /// cost a request each (3,000 notes, 3,000 uploads).
    /// </summary>
    internal const long MaxPackBytes = MinCutBytes;
    internal const long MinPackBytes = 256L << 10;

    internal static GearCutter NewCutter() => new(MinCutBytes, MaxObjectBytes, maskBits: 20);

    public const string BackupsPrefix = "backups/";
    public const string DataPrefix = "data/";
    public const string KeysPrefix = "keys/";

    public static string CatalogKey(string filename) => BackupsPrefix + filename + ".json";
    public static string IndexKey(string filename) => BackupsPrefix + filename + ".index";
    public static string NamingKeyKey(string keyId) => KeysPrefix + "naming-" + keyId + ".age";
    public static string ObjectKey(string name) => DataPrefix + name[..2] + "/" + name;

    /// <summary>The backup filename of a catalog key, or null for any other key.</summary>
    public static string? FilenameOfCatalog(string key) =>
        key.StartsWith(BackupsPrefix, StringComparison.Ordinal) && key.EndsWith(".json",
            StringComparison.Ordinal) && key.IndexOf('/', BackupsPrefix.Length) < 0
            ? key[BackupsPrefix.Length..^5] : null;

    public static readonly JsonSerializerOptions Json = new(BackupJson.Options) { WriteIndented = false };

    /// <summary>Cuts an archive along its zip structure into ranges that tile it in order: inline ranges, packs of
    /// small files, and large entries' data (cut further into pieces by <see cref="NewCutter"/>).</summary>
    internal static List<PlannedRange> Plan(Stream archive, string filename, byte[] namingKey)
    {
        var (endRecord, _) = ArchiveSummary.FindComment(archive);
        if (endRecord < 0) throw BackupArchiveReader.Damaged(filename, "it is not a readable zip file");
        var plan = new List<PlannedRange>();
        long position = 0, packStart = -1, packEnd = 0, headerStart = 0;
        void ClosePack()
        {
            // A pack too small to be worth a request stays inline with the headers around it.
            if (packStart >= 0 && packEnd - packStart >= MinObjectBytes)
            {
                if (packStart > position) plan.Add(new(position, packStart - position, false, false));
                plan.Add(new(packStart, packEnd - packStart, true, false, Pack: true));
                position = packEnd;
            }
            packStart = -1;
        }
        // Planned as the directory is walked, not from a list of it: memory does not grow with the number of files.
        void Add(ZipStructure.Entry entry)
        {
            // Entries follow each other with no gap (ZipStructure checked): a header starts where the last data ended.
            var end = entry.DataOffset + entry.CompressedSize;
            if (entry.CompressedSize < MinCutBytes && entry.Name.StartsWith(ArchivePath.FilesPrefix,
                StringComparison.Ordinal))
            {
                if (packStart >= 0 && end - packStart > MaxPackBytes) ClosePack();
                if (packStart < 0) packStart = headerStart;
                packEnd = end;
                if (packEnd - packStart >= MinPackBytes && EndsPack(namingKey, entry)) ClosePack();
            }
            else
            {
                ClosePack();
                if (entry.CompressedSize >= MinObjectBytes)
                {
                    if (entry.DataOffset > position) plan.Add(new(position, entry.DataOffset - position, false,
                        false));
                    plan.Add(new(entry.DataOffset, entry.CompressedSize, true, entry.Deflated,
                        HeadCut: entry.Deflated && HasHead(entry.Name)));
                    position = end;
                }
            }
            headerStart = end;
        }
        string? problem;
        try { problem = ZipStructure.Walk(archive, ZipStructure.Locate(archive, endRecord), Add); }
        catch (Exception e) when (
            e is InvalidDataException or EndOfStreamException) { throw BackupArchiveReader.Damaged(filename,
            e.Message); }
        if (problem is not null) throw BackupArchiveReader.Damaged(filename, problem);
        ClosePack();
        // The central directory (about 100 bytes a file) travels as objects cut where its content says, as a large
        // entry's data: inline, the index would grow, and be held in memory, in proportion to the number of files.
        var tail = archive.Length - position;
        if (tail > 0) plan.Add(new(position, tail, tail > MinCutBytes, false));
        return plan;
    }

    /// <summary>The entries deflated with a head chunk of their own (the dump: <c>PrecompressedFile.HeadBytes</c>;
    /// the manifest: <c>BackupArchiveWriter.ManifestHeadLines</c>), whose first bytes change in every backup.</summary>
    private static bool HasHead(string entryName) =>
        entryName == BackupManifest.EntryName || ArchivePath.IsDump(entryName);

    /// <summary>About one entry in eight ends a pack, decided by the entry alone (its name, CRC-32 and size), so the
    /// packs after a new file end where they ended before; keyed like object names, so where packs end says nothing
    /// testable about a file's content.</summary>
    private static bool EndsPack(byte[] namingKey, ZipStructure.Entry entry) => (HMACSHA256.HashData(namingKey,
        System.Text.Encoding.UTF8.GetBytes($"backupmanager pack end v1\n{entry.Name}\n{entry.Crc32}\n{entry.Size}"))[0]
        & 7) == 0;

    /// <summary>The object name of a byte range with SHA-256 <paramref name="sha256"/> under <paramref
    /// name="namingKey"/>.</summary>
    internal static string ObjectName(byte[] namingKey, byte[] sha256) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(namingKey,
            (byte[])[.. "backupmanager object name v1\n"u8, .. sha256]));

    internal static string NamingKeyId(byte[] namingKey) =>
        Convert.ToHexStringLower(SHA256.HashData([.. "backupmanager naming key id v1\n"u8, .. namingKey]))[..16];

    internal static byte[] EncodeIndex(ArchiveIndex index)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal,
            leaveOpen: true)) JsonSerializer.Serialize(gzip, index, Json);
        return buffer.ToArray();
    }

    internal static ArchiveIndex DecodeIndex(Stream gzipped, string filename)
    {
        try
        {
            using var gzip = new GZipStream(gzipped, CompressionMode.Decompress);
            var index = JsonSerializer.Deserialize<ArchiveIndex>(gzip, Json);
            if (index is null || index.Format != Version
                || index.Segments.Count == 0) throw new JsonException("empty or unknown index");
            return index;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new BackupException(BackupErrorKind.Damaged,
                $"The index of {filename} at the destination is damaged or of an unknown format ({e.Message}). "
                + $"Restore another backup, and run app:check-destination.");
        }
    }

    internal static BackupCatalog? ParseCatalog(byte[] json)
    {
        try { return JsonSerializer.Deserialize<BackupCatalog>(json,
            Json) is { Format: Version } catalog ? catalog : null; }
        catch (JsonException) { return null; }
    }
}
