using System.Globalization;
using System.Text.RegularExpressions;

namespace BackupManager.Core.Storage;

/// <summary>
/// The only names the backup folder answers to: <c>backup-YYYY-MM-DD-HH-mm-ss.zip</c> (UTC). Anything else — a path,
/// "..", an encoded or look-alike character, an over-long name — is rejected before it reaches the file system.
/// </summary>
public static partial class BackupFileName
{
    public const string Format = "backup-YYYY-MM-DD-HH-mm-ss.zip";

    public static bool IsValid(string? name) => name is { Length: 30 } && Pattern().IsMatch(name);

    public static string For(DateTimeOffset createdAt) =>
        "backup-" + createdAt.UtcDateTime.ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture) + ".zip";

    /// <summary>The creation time encoded in a valid name (used when an archive has no readable summary).</summary>
    public static DateTimeOffset TimeOf(string name) =>
        DateTimeOffset.ParseExact(name[7..26], "yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal);

    /// <summary>A name made safe to echo in an error message (no control characters, bounded length).</summary>
    public static string Printable(string? name)
    {
        if (name is null) return "(none)";
        var clean = new string(name.Select(c => char.IsControl(c) ? '?' : c).Take(80).ToArray());
        return name.Length > 80 ? clean + "…" : clean;
    }

    [GeneratedRegex("^backup-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}\\.zip$",
        RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
