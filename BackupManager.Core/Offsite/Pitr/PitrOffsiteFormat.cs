using BackupManager.Core.Pitr;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>
/// Point-in-time recovery at a destination, beside the backups and ignored by their listing, retention and sweep:
/// <list type="bullet">
/// <item><c>pitr/wal/&lt;segment&gt;.age</c>: a completed WAL segment, whole, as an age file.</item>
/// <item><c>pitr/wal/&lt;segment&gt;.partial.age</c>: the segment being written, replaced as it grows.</item>
/// <item><c>pitr/base/&lt;name&gt;.tar.gz.age</c>: a base backup folder as a gzipped tar (stock tar unpacks it).</item>
/// <item><c>pitr/base/&lt;name&gt;.json</c>: its plaintext record (backupmanager-base.json), written last: a base
/// backup is at a destination exactly when its record is.</item>
/// </list>
/// Without recipients (a folder destination allowed unencrypted) the same names lack <c>.age</c>.
/// </summary>
public static class PitrOffsiteFormat
{
    public const string Prefix = "pitr/";
    public const string WalPrefix = "pitr/wal/";
    public const string BasePrefix = "pitr/base/";
    private const string Age = ".age";
    private const string Partial = ".partial";

    public static string WalKey(string segmentFile, bool encrypted) =>
        WalPrefix + segmentFile + (encrypted ? Age : "");

    public static string BaseKey(string name, bool encrypted) => BasePrefix + name + ".tar.gz" + (encrypted ? Age : "");

    public static string RecordKey(string name) => BasePrefix + name + ".json";

    /// <summary>The base backup name of a record key, or null.</summary>
    public static string? NameOfRecord(string key) =>
        key.StartsWith(BasePrefix, StringComparison.Ordinal) && key.EndsWith(".json", StringComparison.Ordinal)
            ? key[BasePrefix.Length..^5] : null;

    /// <summary>The base backup name of a tar key (encrypted or not), or null.</summary>
    public static string? NameOfBase(string key)
    {
        if (!key.StartsWith(BasePrefix, StringComparison.Ordinal)) return null;
        var rest = key[BasePrefix.Length..];
        if (rest.EndsWith(Age, StringComparison.Ordinal)) rest = rest[..^Age.Length];
        return rest.EndsWith(".tar.gz", StringComparison.Ordinal) ? rest[..^7] : null;
    }

    /// <summary>The segment a WAL key holds (its Path is the local file name, e.g. ….partial), or null.</summary>
    public static WalSegment? SegmentOf(string key, long segmentBytes)
    {
        if (!key.StartsWith(WalPrefix, StringComparison.Ordinal)) return null;
        var file = key[WalPrefix.Length..];
        if (file.EndsWith(Age, StringComparison.Ordinal)) file = file[..^Age.Length];
        return WalSegment.TryParse(file, segmentBytes);
    }

    public static bool IsEncrypted(string key) => key.EndsWith(Age, StringComparison.Ordinal);

    internal static string PartialName(string completed) => completed + Partial;
}
