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
    public string ManifestSha256 { get; init; } = "";

    public string ToComment() => JsonSerializer.Serialize(this, BackupJson.Compact);

    public static ArchiveSummary? FromComment(string? comment)
    {
        if (string.IsNullOrEmpty(comment) || !comment.Contains(Marker, StringComparison.Ordinal)) return null;
        try { return JsonSerializer.Deserialize<ArchiveSummary>(comment, BackupJson.Options); }
        catch (JsonException) { return null; }
    }

    /// <summary>Reads the summary from the tail of a zip file without parsing the central directory; null if absent.</summary>
    public static ArchiveSummary? ReadFromFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        var (_, comment) = FindComment(stream);
        return comment is null ? null : FromComment(comment);
    }

    /// <summary>Replaces the zip comment in place (the comment is the last thing in a zip file). Used to mark uploads.</summary>
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

    private static (long EocdOffset, string? Comment) FindComment(FileStream stream)
    {
        const int eocdSize = 22;
        var tailLength = (int)Math.Min(stream.Length, eocdSize + ushort.MaxValue);
        if (tailLength < eocdSize) return (-1, null);
        var tail = new byte[tailLength];
        stream.Seek(-tailLength, SeekOrigin.End);
        stream.ReadExactly(tail);
        // The end-of-central-directory record is the last "PK\x05\x06" whose comment length reaches the end of the file.
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
