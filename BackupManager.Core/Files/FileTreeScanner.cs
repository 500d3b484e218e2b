using Microsoft.Extensions.FileSystemGlobbing;

namespace BackupManager.Core.Files;

/// <summary>A regular file found under a root, with the size and time seen when the tree was scanned.</summary>
public sealed record ScannedFile(FileRoot Root, string RelativePath, long Size, DateTime LastWriteUtc)
{
    // Derived, not stored: the scan list of a large clinic holds hundreds of thousands of these.
    public string FullPath => Path.Combine(Root.FullPath, RelativePath);
}

/// <summary>
/// Lists the files of the configured folders. Symbolic links are never followed (a link could lead out of the folder
/// or into a loop): each one is reported as a warning instead. Exclude patterns are globs relative to each folder.
/// </summary>
public sealed class FileTreeScanner(IEnumerable<string> excludePatterns)
{
    private readonly Matcher _excludes = BuildMatcher(excludePatterns);

    public List<ScannedFile> Scan(FileRoot root, List<string> warnings)
    {
        var files = new List<ScannedFile>();
        if (!Directory.Exists(root.FullPath))
        {
            warnings.Add($"The folder {root.FullPath} does not exist; it was skipped.");
            return files;
        }
        var pending = new Stack<string>();
        pending.Push(root.FullPath);
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            IEnumerable<FileSystemInfo> children;
            try { children = new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warnings.Add($"The folder {directory} could not be read ({e.Message}); it was skipped.");
                continue;
            }
            foreach (var child in children)
            {
                var relative = Path.GetRelativePath(root.FullPath, child.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (child.LinkTarget is not null)
                {
                    warnings.Add($"Symbolic link {child.FullName} -> {child.LinkTarget} was not followed.");
                    continue;
                }
                if (child is DirectoryInfo)
                {
                    pending.Push(child.FullName);
                    continue;
                }
                if (child is not FileInfo file || (file.Attributes & (FileAttributes.Device | FileAttributes.System)) != 0) continue;
                if (Storage.NativeFileSystem.IsSpecialFile(child.FullName))
                {
                    warnings.Add($"{child.FullName} is a pipe, socket or device, not a file, and was skipped.");
                    continue;
                }
                if (_excludes.Match(relative).HasMatches) continue;
                if (relative.Contains('\\') || relative.Any(char.IsControl))
                {
                    warnings.Add($"{child.FullName} has a backslash or control character in its name and was skipped; rename it to back it up.");
                    continue;
                }
                files.Add(new ScannedFile(root, relative, file.Length, file.LastWriteTimeUtc));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    private static Matcher BuildMatcher(IEnumerable<string> patterns)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var pattern in patterns) matcher.AddInclude(pattern);
        return matcher;
    }
}
