using Microsoft.Extensions.FileSystemGlobbing;

namespace BackupManager.Core.Files;

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
        files.Add(Describe(root, "", new DirectoryInfo(root.FullPath), 0,
            IO.NativeFileSystem.Stat(root.FullPath)));
        var pending = new Stack<string>();
        pending.Push(root.FullPath);
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false,
            RecurseSubdirectories = false };
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
                var relative = Path.GetRelativePath(root.FullPath, child.FullName).Replace(Path.DirectorySeparatorChar,
                    '/');
                if (child.LinkTarget is not null)
                {
                    warnings.Add($"Symbolic link {child.FullName} -> {child.LinkTarget} was not followed.");
                    continue;
                }
                if (child is DirectoryInfo directoryInfo)
                {
                    pending.Push(child.FullName);
                    if (!IsExcludedFolder(relative) && NameIsSafe(child, relative, warnings))
                        files.Add(Describe(root, relative, directoryInfo, 0,
                            IO.NativeFileSystem.Stat(child.FullName)));
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
                if (_excludes.Match(relative).HasMatches || !NameIsSafe(child, relative, warnings)) continue;
                files.Add(Describe(root, relative, file, file.Length, status));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    /// <summary>
    /// A folder is left out (as an entry of its own) when a pattern names it, or would leave out any file directly in
    /// it
    /// ("cache/**"): the folder of excluded files should not come back empty. Its files are still matched one by one.
    /// </summary>
    private bool IsExcludedFolder(string relative) =>
        _excludes.Match(relative).HasMatches || _excludes.Match(relative + "/bm-probe-8d41c2e7").HasMatches;

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
