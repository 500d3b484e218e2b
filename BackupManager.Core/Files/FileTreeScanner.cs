using System.IO.Enumeration;
using Microsoft.Extensions.FileSystemGlobbing;

namespace BackupManager.Core.Files;

/// <summary>
/// Lists the files of the configured folders. Symbolic links are never followed (a link could lead out of the folder
/// or into a loop): each one is reported as a warning instead. Exclude patterns are globs relative to each folder.
/// </summary>
/// <param name="excludePatterns">Globs relative to each folder.</param>
/// <param name="backupFolder">Where the backups are kept: left out with a warning when a backed-up folder holds it (a
/// backup would copy the older ones, and itself as it is written).</param>
public sealed class FileTreeScanner(IEnumerable<string> excludePatterns, string? backupFolder = null)
{
    private readonly Matcher _excludes = BuildMatcher(excludePatterns);
    private readonly bool _hasExcludes = excludePatterns.Any();
    private readonly string? _backupFolder = string.IsNullOrWhiteSpace(backupFolder) ? null
        : Path.TrimEndingDirectorySeparator(Path.GetFullPath(backupFolder));

    /// <summary>
    /// The root, its folders and its files in the ordinal order of their relative paths, as a sort of the whole list
    /// would give, while holding only the listings of the folders on the way down: a folder's contents are listed
    /// when the walk reaches the key "name/", which sorts exactly where its paths would. Lazy: each enumeration walks
    /// the tree again, and adds its warnings to <paramref name="warnings"/>.
    /// </summary>
    public IEnumerable<ScannedFile> Scan(FileRoot root, List<string> warnings)
    {
        if (!Directory.Exists(root.FullPath))
        {
            warnings.Add($"The folder {root.FullPath} does not exist; it was skipped.");
            yield break;
        }
        yield return Describe(root, "", new DirectoryInfo(root.FullPath), 0, IO.NativeFileSystem.Stat(root.FullPath));
        var open = new Stack<Queue<Child>>();
        open.Push(List(root, root.FullPath, warnings));
        while (open.Count > 0)
        {
            if (!open.Peek().TryDequeue(out var child)) open.Pop();
            else if (child.Entry is { } entry) yield return entry;
            else open.Push(List(root, child.Folder!, warnings));
        }
    }

    /// <summary>About the bytes of the files <see cref="Scan"/> gives, measured with the listing's own stat and no
    /// checks of names or types (a third of a walk's cost): it only paces a create's progress.</summary>
    public long MeasureBytes(FileRoot root, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(root.FullPath)) return 0;
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true,
            RecurseSubdirectories = true };
        var files = new FileSystemEnumerable<(string? Relative, long Length)>(root.FullPath,
            (ref FileSystemEntry entry) => (_hasExcludes ? Path.GetRelativePath(root.FullPath,
                entry.ToFullPath()).Replace(Path.DirectorySeparatorChar, '/') : null, entry.Length), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
                !entry.IsDirectory && (entry.Attributes & FileAttributes.ReparsePoint) == 0,
            ShouldRecursePredicate = (ref FileSystemEntry entry) =>
                (entry.Attributes & FileAttributes.ReparsePoint) == 0 && !IsBackupFolder(entry.ToFullPath())
                && !cancellationToken.IsCancellationRequested,
        };
        long total = 0;
        foreach (var (relative, length) in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (relative is null || !IsExcluded(relative)) total += length;
        }
        return total;
    }

    /// <summary>One place in a folder's listing: an entry to give, or a folder whose contents to list there.</summary>
    private readonly record struct Child(string Key, ScannedFile? Entry, string? Folder);

    private Queue<Child> List(FileRoot root, string directory, List<string> warnings)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false,
            RecurseSubdirectories = false };
        // Listed by path, maybe minutes after its parent was (the files before it are read first): a folder swapped
        // for a link since then is not followed.
        if (directory != root.FullPath && IO.NativeFileSystem.Stat(directory) is { IsDirectory: false })
        {
            warnings.Add($"The folder {directory} was replaced by a link or a file while the backup ran; it was "
                + "skipped. Check who changed it.");
            return new Queue<Child>();
        }
        List<FileSystemInfo> children;
        try { children = new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"The folder {directory} could not be read ({e.Message}); it was skipped.");
            return new Queue<Child>();
        }
        var listing = new List<Child>(children.Count);
        foreach (var child in children)
        {
            var relative = Path.GetRelativePath(root.FullPath, child.FullName).Replace(Path.DirectorySeparatorChar,
                '/');
            // The attribute comes from the listing's own stat; LinkTarget would read every entry as a link.
            if ((child.Attributes & FileAttributes.ReparsePoint) != 0 && child.LinkTarget is not null)
            {
                warnings.Add($"Symbolic link {child.FullName} -> {child.LinkTarget} was not followed.");
                continue;
            }
            if (child is DirectoryInfo directoryInfo)
            {
                if (IsBackupFolder(child.FullName))
                {
                    warnings.Add($"{child.FullName} holds the backups themselves and was left out; keep "
                        + "Backup__Directory outside the backed-up folders.");
                    continue;
                }
                listing.Add(new Child(relative + "/", null, child.FullName));
                if (!IsExcludedFolder(relative) && NameIsSafe(child, relative, warnings))
                    listing.Add(new Child(relative, Describe(root, relative, directoryInfo, 0,
                        IO.NativeFileSystem.Stat(child.FullName)), null));
                continue;
            }
            if (child is not FileInfo file
                || (file.Attributes & (FileAttributes.Device | FileAttributes.System)) != 0) continue;
            var status = IO.NativeFileSystem.Stat(child.FullName);
            if (status is { IsRegularFile: false })
            {
                warnings.Add($"{child.FullName} is a pipe, socket or device, not a file, and was skipped.");
                continue;
            }
            if (IsExcluded(relative) || !NameIsSafe(child, relative, warnings)) continue;
            listing.Add(new Child(relative, Describe(root, relative, file, file.Length, status), null));
        }
        listing.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new Queue<Child>(listing);
    }

    /// <summary>
    /// A folder is left out (as an entry of its own) when a pattern names it, or would leave out any file directly in
    /// it
    /// ("cache/**"): the folder of excluded files should not come back empty. Its files are still matched one by one.
    /// </summary>
    private bool IsExcludedFolder(string relative) =>
        IsExcluded(relative) || IsExcluded(relative + "/bm-probe-8d41c2e7");

    private bool IsBackupFolder(string path) => _backupFolder is not null
        && string.Equals(Path.TrimEndingDirectorySeparator(path), _backupFolder, StringComparison.Ordinal);

    // Asked only when there are patterns: a match costs a matcher's context even when it has none.
    private bool IsExcluded(string relative) => _hasExcludes && _excludes.Match(relative).HasMatches;

    private static bool NameIsSafe(FileSystemInfo child, string relative, List<string> warnings)
    {
        if (!relative.Contains('\\') && !relative.Any(char.IsControl)) return true;
        warnings.Add($"{child.FullName} has a backslash or control character in its name and was skipped; rename it "
            + $"to back it up.");
        return false;
    }

    /// <summary>The owner is recorded only when running as root: only root can give it back.</summary>
    private static readonly bool RecordOwners = Environment.IsPrivilegedProcess;

    private static ScannedFile Describe(FileRoot root, string relative, FileSystemInfo info, long size,
        IO.FileStatus? status)
    {
        var type = info is DirectoryInfo ? 0x4000u : 0x8000u;
        var mode = status is { } s
            ? type | s.Permissions : type | (uint)(OperatingSystem.IsWindows()
            ? 0x1A4 : (int)File.GetUnixFileMode(info.FullName));
        return new ScannedFile(root, relative, size, info.LastWriteTimeUtc, mode,
            RecordOwners && status is { } o ? o.Uid : null, RecordOwners && status is { } g ? g.Gid : null);
    }

    private static Matcher BuildMatcher(IEnumerable<string> patterns)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var pattern in patterns) matcher.AddInclude(pattern);
        return matcher;
    }
}
