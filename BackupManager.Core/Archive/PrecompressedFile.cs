using System.IO.Compression;

namespace BackupManager.Core.Archive;

/// <summary>
/// Content written ahead of time into a temporary file, deflated on the way, with the CRC-32, SHA-256 and size of the
/// original bytes: what <see cref="ZipWriter.AddPrecompressedAsync"/> needs to add it without compressing it again.
/// Lets the database dump be compressed on one core while the files stream into the archive on the other.
/// </summary>
internal static class PrecompressedFile
{
    /// <summary>
    /// Runs <paramref name="produce"/> against a stream that deflates into <paramref name="path"/> at
    /// <paramref name="compressionLevel"/> (0 stores). The file is created new; on failure it is left for the caller to delete.
    /// </summary>
    public static async Task<PrecompressedContent> WriteAsync(string path, int compressionLevel, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BackupArchiveWriter.BufferSize);
        var deflate = compressionLevel > 0
            ? new DeflateStream(file, new ZLibCompressionOptions { CompressionLevel = compressionLevel }, leaveOpen: true)
            : null;
        string sha256;
        uint crc;
        long size;
        await using (deflate)
        await using (var hashing = new HashingStream(deflate ?? (Stream)file, forRead: false, withCrc32: true))
        {
            await produce(hashing, cancellationToken).ConfigureAwait(false);
            (sha256, crc, size) = (hashing.HashHex(), hashing.Crc32, hashing.BytesHashed);
        }
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new PrecompressedContent(deflate is not null, crc, size, file.Length, sha256);
    }
}
