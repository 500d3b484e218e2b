namespace BackupManager.Core.Archive;

/// <summary>
/// The rules every entry name must meet before anything is extracted (zip-slip defence): relative, forward slashes,
/// no empty, "." or ".." segments, no control characters, and under <c>db/</c> or <c>files/&lt;root&gt;/</c>; a folder
/// entry under <c>files/</c> ends with a single '/'.
/// </summary>
public static class ArchivePath
{
    public const string DatabasePrefix = "db/";
    public const string FilesPrefix = "files/";
    /// <summary>The roles the database needs, as a psql script (see <see cref="Database.RequiredRoles"/>).</summary>
    public const string RolesEntry = "db/roles.sql";
    private const int MaxLength = 4096;

    /// <summary>True for the database dump's entry name (<c>db/&lt;database&gt;.dump</c>).</summary>
    public static bool IsDump(string name) => name.StartsWith(DatabasePrefix, StringComparison.Ordinal)
        && name.EndsWith(".dump", StringComparison.Ordinal);

    /// <summary>Null when <paramref name="name"/> is a safe entry name; otherwise why it is not.</summary>
    public static string? Problem(string name)
    {
        if (string.IsNullOrEmpty(name)) return "an empty entry name";
        if (name.Length > MaxLength) return "an entry name longer than 4096 characters";
        if (name == BackupManifest.EntryName) return null;
        if (name[0] == '/' || name.Contains('\\')
            || (name.Length > 1 && name[1] == ':')) return $"an absolute or Windows path '{name}'";
        if (name.Any(char.IsControl)) return "an entry name with control characters";
        // A folder entry ends with '/': files/<root>/ is the root folder itself, files/<root>/a/b/ a folder in it.
        var folder = name.EndsWith('/') && name.StartsWith(FilesPrefix, StringComparison.Ordinal);
        var segments = (folder ? name[..^1] : name).Split('/');
        if (segments.Any(s => s.Length == 0 || s == "." || s == ".."))
            return $"a path that leaves its folder or has empty segments '{name}'";
        if (name.StartsWith(DatabasePrefix, StringComparison.Ordinal))
            return name == RolesEntry || (segments.Length == 2 && segments[1].EndsWith(".dump",
                StringComparison.Ordinal)) ? null : $"an unexpected database entry '{name}'";
        if (name.StartsWith(FilesPrefix, StringComparison.Ordinal))
            return segments.Length >= (folder ? 2 : 3) ? null : $"a file entry without a folder '{name}'";
        return $"an entry outside db/ and files/ '{name}'";
    }

    /// <summary>The root folder name of a <c>files/&lt;root&gt;/…</c> entry.</summary>
    public static string RootOf(string entryName) => entryName.Split('/')[1];

    /// <summary>The path of a <c>files/&lt;root&gt;/…</c> entry relative to its root.</summary>
    public static string RelativeToRoot(string entryName) =>
        entryName[(FilesPrefix.Length + RootOf(entryName).Length + 1)..];

    /// <summary>
    /// Joins a validated relative entry path to <paramref name="root"/> and proves the result stays inside it.
    /// </summary>
    public static string ResolveInside(string root, string relative)
    {
        var rootFull = Path.GetFullPath(root).TrimEnd('/') + "/";
        var full = Path.GetFullPath(Path.Combine(rootFull, relative));
        if (!full.StartsWith(rootFull, StringComparison.Ordinal))
            throw new BackupException(BackupErrorKind.Damaged,
                $"The archive entry '{relative}' would be written outside its folder; the archive is refused.");
        return full;
    }
}
