namespace BackupManager.Core.Archive;

/// <summary>
/// Content deflated ahead of time, with the CRC-32, SHA-256 and size of the original bytes: what a zip entry needs to
/// take it without compressing it again. Lets the database dump be compressed on one core while the files stream into
/// the archive on the other. The compressed bytes go to a <see cref="PrecompressedSink"/>: a temporary file while the
/// archive is busy with files, then straight into the archive entry.
/// </summary>
internal static class PrecompressedFile
{
    /// <summary>The dump's deflate chunks are at most this long and about 3/4 MiB of dump on average (as restic's
    /// pieces): an off-site copy cuts its pieces where these chunks end (<c>PieceCutter</c>), so a changed row costs
    /// about that much of dump, deflated.</summary>
    internal const int DumpChunkSize = 4 << 20;

    /// <summary>The dump's first chunk ends at the first line end after this (<see cref="ParallelDeflateStream"/>):
    /// pg_dump's header, of fixed length, whose timestamp changes in every dump, lies in its first 200 bytes; the rest
    /// of the dump then compresses to the same bytes when the database did not change.</summary>
    internal const int HeadBytes = 4 << 10;

    /// <summary>
    /// Runs <paramref name="produce"/> against a stream that deflates into <paramref name="sink"/> at
    /// <paramref name="compressionLevel"/> (0 stores), and completes the sink. On failure the sink's file is left for
    /// the caller to delete.
    /// </summary>
    public static async Task<PrecompressedContent> WriteAsync(PrecompressedSink sink, int compressionLevel, Func<Stream,
        CancellationToken, Task> produce, CancellationToken cancellationToken,
        bool lowPriority = false)
    {
        // On every core: a single deflater was the dump's bottleneck on rows that compress slowly (bytea as hex).
        // Four keep up with one server backend (per core zlib-ng deflates about 250 MB/s at level 1, 100 MB/s at 6);
        // more would only hold memory.
        using var deflate = compressionLevel > 0 ? new ParallelDeflateStream(sink, compressionLevel,
            lowPriority ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 4), DumpChunkSize,
                contentDefinedCuts: true, lowPriority: lowPriority, headBytes: HeadBytes) : null;
        string sha256;
        uint crc;
        long size;
        await using (var hashing = new HashingStream(deflate ?? (Stream)sink, forRead: false, withCrc32: true))
        {
            await produce(hashing, cancellationToken).ConfigureAwait(false);
            (sha256, crc, size) = (hashing.HashHex(), hashing.Crc32, hashing.BytesHashed);
        }
        deflate?.Complete();
        var compressedSize = sink.Finish();
        return new PrecompressedContent(deflate is not null, crc, size, compressedSize, sha256);
    }
}
