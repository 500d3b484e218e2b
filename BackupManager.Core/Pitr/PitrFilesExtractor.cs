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
            await RootExtractor.ExtractAsync(archive, root.Name, target, foreign: false, null, cancellationToken)
                .ConfigureAwait(false);
        }
        return roots;
    }
}
