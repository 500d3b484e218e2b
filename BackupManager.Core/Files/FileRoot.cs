namespace BackupManager.Core;

/// <summary>
/// One configured folder of important files. Its <see cref="Name"/> (the last path segment) is the folder under
/// <c>files/</c> in an archive, which is how a restore finds the folder an entry belongs to.
/// </summary>
public sealed record FileRoot(string Name, string FullPath)
{
    public static string NameOf(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "";
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetFileName(full);
    }

    public static FileRoot From(string path) => new(NameOf(path),
        Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar));
}
