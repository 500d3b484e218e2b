using BackupManager.Core.Archive;
using BackupManager.Core.IO;

namespace BackupManager.Core.Restore;

/// <summary>
/// Writes one root's entries of an archive into a folder, each file's bytes checked as they stream
/// (<see cref="BackupArchiveReader.OpenVerified"/>), files private until they get their recorded metadata, folders
/// last and deepest first. Used by the restore's staging and by point-in-time recovery's files.
/// </summary>
internal static class RootExtractor
{
    /// <summary>Extracts root <paramref name="rootName"/> into <paramref name="target"/> (which must exist);
    /// <paramref name="extracted"/> hears of each file with the share of the root's bytes done.</summary>
    public static async Task ExtractAsync(BackupArchiveReader archive, string rootName, string target, bool foreign,
        Action<ManifestEntry, double>? extracted, CancellationToken cancellationToken)
    {
        var prefix = ArchivePath.FilesPrefix + rootName + "/";
        // Enumerated twice (the total, then the work) rather than listed: the entries stream from a spill file.
        var entries = archive.Manifest.Entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal));
        var folders = new List<(string Path, ManifestEntry Entry)>();
        long total = Math.Max(1, entries.Sum(e => e.Size)), done = 0;
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
            // Private until it gets its recorded mode: a staging copy sits beside the live folder.
            await using (var output = new FileStream(destination,
                PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 1)))
            {
                await source.CopyToAsync(output, BackupArchiveWriter.BufferSize, cancellationToken)
                    .ConfigureAwait(false);
            }
            RestoredMetadata.Apply(destination, entry, foreign);
            done += entry.Size;
            extracted?.Invoke(entry, (double)done / total);
        }
        // Folders last, deepest first: writing into a folder changes its time, and a read-only folder refuses new
        // files.
        foreach (var (path, entry) in folders.OrderByDescending(f => f.Path.Length))
            RestoredMetadata.Apply(path, entry, foreign);
    }
}
