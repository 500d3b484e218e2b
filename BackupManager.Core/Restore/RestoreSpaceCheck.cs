using System.Globalization;
using BackupManager.Core.Archive;

namespace BackupManager.Core.Restore;

/// <summary>
/// Before a restore writes anything, each target folder's disk must hold the files the manifest declares for it plus
/// a margin: a small archive declaring gigabytes (a zip bomb) is refused with the figures instead of filling the disk.
/// An entry that inflates past its declared size is stopped by the verified read itself, and the staging copy removed.
/// </summary>
internal static class RestoreSpaceCheck
{
    /// <summary>64 MiB or 5 % of what is written, whichever is more: file system overhead and logs.</summary>
    public static long MarginFor(long bytes) => Math.Max(64L << 20, bytes / 20);

    public static void Ensure(string backup, BackupManifest manifest, RestorePlan plan, bool upload = false)
    {
        foreach (var (rootName, target) in plan.Folders)
        {
            var prefix = ArchivePath.FilesPrefix + rootName + "/";
            var declared = manifest.Entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal))
                .Sum(e => e.Size);
            // The staging copy goes beside the live folder, on the same disk.
            var parent = Path.GetDirectoryName(target.FullPath) ?? target.FullPath;
            long free;
            try { free = new DriveInfo(parent).AvailableFreeSpace; }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                continue;
            }
            var margin = MarginFor(declared);
            if (declared + margin > free)
                throw new BackupException(BackupErrorKind.Environment,
                    (upload ? $"The upload {backup} was refused: it could never be restored here, because "
                        : $"The restore of {backup} was refused before anything was written: ")
                    + $"the folder {target.FullPath} would "
                    + $"get {Size(declared)} of files (as the backup declares them) plus a margin of "
                    + $"{Size(margin)}, but its disk has {Size(free)} free. Free space there, or restore only the "
                    + "database (--only-db), then try again.");
        }
    }

    private static string Size(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
