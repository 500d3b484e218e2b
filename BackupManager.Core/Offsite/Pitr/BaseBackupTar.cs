using System.Formats.Tar;
using System.IO.Compression;
using BackupManager.Core.IO;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>
/// A base backup folder as one gzipped tar (PAX, paths relative to the folder, modes kept): one object per base
/// backup, so its files stay together and stock <c>age -d | tar xz</c> unpacks it.
/// </summary>
internal static class BaseBackupTar
{
    /// <summary>Packs <paramref name="folder"/> into the private file <paramref name="tarGz"/>.</summary>
    public static async Task PackAsync(string folder, string tarGz, CancellationToken cancellationToken)
    {
        await using (var file = new FileStream(tarGz, PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write,
            FileShare.None)))
        {
            await using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true))
                await TarFile.CreateFromDirectoryAsync(folder, gzip, includeBaseDirectory: false, cancellationToken)
                    .ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Unpacks a gzipped tar stream into the new folder <paramref name="folder"/> (tar refuses entries that
    /// leave it).</summary>
    public static async Task UnpackAsync(Stream tarGz, string folder, CancellationToken cancellationToken)
    {
        PrivateFiles.CreateFolder(folder);
        await using var gzip = new GZipStream(tarGz, CompressionMode.Decompress);
        await TarFile.ExtractToDirectoryAsync(gzip, folder, overwriteFiles: false, cancellationToken)
            .ConfigureAwait(false);
    }
}
