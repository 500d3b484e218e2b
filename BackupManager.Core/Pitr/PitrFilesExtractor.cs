using BackupManager.Core.Archive;
using BackupManager.Core.IO;
using BackupManager.Core.Restore;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Puts the folders of a verified backup into a private work folder (one sub-folder per root, named like it), with
/// their recorded modes, times and owners, so the point-in-time archive carries the files of that backup.
/// </summary>
internal static class PitrFilesExtractor
{
    /// <summary>The extracted root folders.</summary>
    public static async Task<List<string>> ExtractAsync(string archivePath, string into,
        CancellationToken cancellationToken)
    {
        using var archive = BackupArchiveReader.Open(archivePath);
        var roots = new List<string>();
        foreach (var root in archive.Manifest.Roots)
        {
            var target = Path.Combine(into, root.Name);
            PrivateFiles.CreateFolder(target);
            roots.Add(target);
            var prefix = ArchivePath.FilesPrefix + root.Name + "/";
            var folders = new List<(string Path, ManifestEntry Entry)>();
            var entries = archive.Manifest.Entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal));
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var relative = ArchivePath.RelativeToRoot(entry.Path);
                var destination = relative.Length == 0 ? target
                    : ArchivePath.ResolveInside(target, relative).TrimEnd('/');
                if (entry.IsDirectory)
                {
                    PrivateFiles.CreateFolder(destination);
                    folders.Add((destination, entry));
                    continue;
                }
                PrivateFiles.CreateFolder(Path.GetDirectoryName(destination)!);
                await using (var source = archive.OpenVerified(entry))
                await using (var output = new FileStream(destination,
                    PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 1)))
                    await source.CopyToAsync(output, BackupArchiveWriter.BufferSize, cancellationToken)
                        .ConfigureAwait(false);
                RestoredMetadata.Apply(destination, entry, foreign: false);
            }
            // Deepest first: writing into a folder changes its time.
            foreach (var (path, entry) in folders.OrderByDescending(f => f.Path.Length))
                RestoredMetadata.Apply(path, entry, foreign: false);
        }
        return roots;
    }
}
