using System.Text;
using System.Text.Json;

namespace BackupManager.Core.Archive;

/// <summary>
/// A few hundred bytes of JSON kept in the zip's end-of-central-directory comment. Listing reads only the last 64 KiB
/// of each archive instead of its central directory and manifest, so 1,000 backups list in milliseconds.
/// </summary>
public sealed record ArchiveSummary
{
    public const string Marker = "backupmanager";

    /// <summary>Always 1; identifies a BackupManager archive.</summary>
    public int Backupmanager { get; init; } = 1;
    public DateTimeOffset CreatedAt { get; init; }
    public BackupTrigger Trigger { get; init; }
    public IReadOnlyList<string> Contains { get; init; } = [];
    public string? RequestedBy { get; init; }
    public int Entries { get; init; }
    public long Bytes { get; init; }
    public int Warnings { get; init; }
    /// <summary>Bytes of the database dump and of the files, uncompressed (absent in archives made before they were
    /// recorded).</summary>
    public long? DatabaseBytes { get; init; }
    public long? FilesBytes { get; init; }
    /// <summary>How long the create took, in milliseconds, up to sealing the archive.</summary>
    public long? DurationMs { get; init; }
    public string ManifestSha256 { get; init; } = "";
    /// <summary>CRC-32 of manifest.json's deflated bytes as stored (absent in archives made before it was
    /// recorded).</summary>
    public uint? ManifestStoredCrc32 { get; init; }
    /// <summary>SHA-256 of the central directory and end records (see <see
    /// cref="ZipStructure.DirectoryHash"/>).</summary>
    public string DirectorySha256 { get; init; } = "";
    /// <summary>The making installation's signature over the two hashes above (see <see
    /// cref="ArchiveSigner"/>).</summary>
    public string? Signature { get; init; }

    /// <summary>The JSON, a newline, and the SHA-256 of the JSON: an edited or damaged comment is detected
    /// too.</summary>
    public string ToComment()
    {
        var json = JsonSerializer.Serialize(this, BackupJson.Compact);
        return json + "\n"
            + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>The summary in a zip comment; null when the comment is absent, not ours, or fails its
    /// checksum.</summary>
    public static ArchiveSummary? FromComment(string? comment)
    {
        if (string.IsNullOrEmpty(comment) || !comment.Contains(Marker, StringComparison.Ordinal)) return null;
        var newline = comment.LastIndexOf('\n');
        if (newline < 0) return null;
        var json = comment[..newline];
        var expected = Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        if (!string.Equals(expected, comment[(newline + 1)..], StringComparison.Ordinal)) return null;
        try { return JsonSerializer.Deserialize<ArchiveSummary>(json, BackupJson.Options); }
        catch (JsonException) { return null; }
    }

    /// <summary>Seals a finished archive: hashes its central directory and rewrites the comment to record it, signed by
    /// <paramref name="signer"/>.</summary>
    public static void SealFile(string path, ArchiveSummary summary, ArchiveSigner? signer = null)
    {
        string directoryHash;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            var (endRecord, _) = FindComment(stream);
            if (endRecord < 0) throw new InvalidDataException("no end-of-central-directory record");
            directoryHash = ZipStructure.DirectoryHash(stream, ZipStructure.Locate(stream, endRecord));
        }
        var sealedSummary = summary with { DirectorySha256 = directoryHash };
        RewriteInFile(path,
            signer is null ? sealedSummary : sealedSummary with { Signature = signer.Sign(sealedSummary) });
    }

    /// <summary>Reads the summary from the tail of a zip file without parsing the central directory; null if
    /// absent.</summary>
    public static ArchiveSummary? ReadFromFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1,
            FileOptions.None);
        var (_, comment) = FindComment(stream);
        return comment is null ? null : FromComment(comment);
    }

    /// <summary>Replaces the zip comment in place (the comment is the last thing in a zip file). Used to mark
    /// uploads.</summary>
    public static void RewriteInFile(string path, ArchiveSummary summary)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var (eocdOffset, _) = FindComment(stream);
        if (eocdOffset < 0) throw new InvalidDataException("no end-of-central-directory record");
        var comment = Encoding.UTF8.GetBytes(summary.ToComment());
        if (comment.Length > ushort.MaxValue) throw new InvalidDataException("summary too long");
        stream.Seek(eocdOffset + 20, SeekOrigin.Begin);
        stream.Write([(byte)(comment.Length & 0xFF), (byte)(comment.Length >> 8)]);
        stream.Write(comment);
        stream.SetLength(eocdOffset + 22 + comment.Length);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The offset of the end-of-central-directory record and the comment after it; (-1, null) when
    /// absent.</summary>
    internal static (long EocdOffset, string? Comment) FindComment(Stream stream)
    {
        const int eocdSize = 22;
        var tailLength = (int)Math.Min(stream.Length, eocdSize + ushort.MaxValue);
        if (tailLength < eocdSize) return (-1, null);
        var tail = new byte[tailLength];
        stream.Seek(-tailLength, SeekOrigin.End);
        stream.ReadExactly(tail);
        // The end-of-central-directory record is the last "PK\x05\x06" whose comment length reaches the end of the
        // file.
        for (var i = tailLength - eocdSize; i >= 0; i--)
        {
            if (tail[i] != 0x50 || tail[i + 1] != 0x4b || tail[i + 2] != 0x05 || tail[i + 3] != 0x06) continue;
            var commentLength = tail[i + 20] | (tail[i + 21] << 8);
            if (i + eocdSize + commentLength != tailLength) continue;
            return (stream.Length - tailLength + i, Encoding.UTF8.GetString(tail, i + eocdSize, commentLength));
        }
        return (-1, null);
    }
}
