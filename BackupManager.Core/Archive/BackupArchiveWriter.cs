using System.IO.Compression;
using System.Text;
using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Streams entries into a standard zip (Zip64 when needed) through <see cref="ZipWriter"/> and records each entry's
/// size and SHA-256, hashed while it is written. <see cref="Complete"/> appends <c>manifest.json</c>, the central
/// directory and the <see cref="ArchiveSummary"/> comment. Memory stays flat: content is copied through one 1 MiB
/// buffer and never held whole, and what is recorded per entry waits in spill files, not in memory.
/// </summary>
internal sealed class BackupArchiveWriter(UncachedFileWriter output) : IDisposable
{
    public const int BufferSize = 1 << 20;
    /// <summary>The manifest's deflate chunks: about 96 KiB of JSON on average, at most 512 KiB.</summary>
    internal const int ManifestChunkSize = 512 << 10;
    /// <summary>The manifest's head: its first lines, which hold what changes in every backup (its time, who asked,
    /// the dump's snapshot); counted in lines so that a time written with a digit less leaves the rest in step.
    /// </summary>
    internal const int ManifestHeadLines = 32;
    private readonly ZipWriter _zip = new(output, output.Name);
    private readonly SpilledManifestEntries _entries = new(output.Name + ".entries");

    /// <summary>The entries written so far, for the manifest; enumerable once all are written (see <see
    /// cref="SpilledManifestEntries"/>).</summary>
    public IReadOnlyList<ManifestEntry> Entries => _entries;
    public ManifestTotals Totals => new(_entries.Count, _entries.Bytes);

    public void Dispose()
    {
        _entries.Dispose();
        _zip.Dispose();
    }

    /// <summary>
    /// Adds one entry whose content <paramref name="writeContent"/> writes; returns what the manifest records.
    /// <paramref name="attributes"/> (a backed-up file's mode and owner) go into the zip headers and the manifest.
    /// </summary>
    public async Task<ManifestEntry> AddAsync(string entryName, CompressionLevel level, DateTimeOffset? modifiedAt,
        long expectedSize,
        Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken,
            ZipEntryAttributes? attributes = null)
    {
        long size;
        string sha256;
        var entryStream = _zip.OpenEntry(entryName, modifiedAt ?? DateTimeOffset.UnixEpoch, ZlibLevel(level),
            expectedSize, attributes, crcFromCaller: true);
        await using (entryStream)
        await using (var hashing = new HashingStream(entryStream, forRead: false, withCrc32: true))
        {
            await writeContent(hashing, cancellationToken).ConfigureAwait(false);
            (size, sha256) = (hashing.BytesHashed, hashing.HashHex());
            // The zip headers' CRC-32 and the manifest's SHA-256 from one pass over the same bytes: what lets a new
            // backup be read back by its CRC-32s (BackupArchiveReader.ReadBackAsync).
            entryStream.ContentCrc32 = hashing.Crc32;
        }
        var recorded = WithAttributes(new ManifestEntry(entryName, size, sha256, modifiedAt, entryStream.StoredCrc32),
            attributes);
        _entries.Add(recorded);
        return recorded;
    }

    /// <summary>Adds a folder entry (name ending in '/') with its mode, owner and time.</summary>
    public ManifestEntry AddDirectory(string entryName, DateTimeOffset modifiedAt, ZipEntryAttributes attributes)
    {
        _zip.AddDirectory(entryName, modifiedAt, attributes);
        var recorded = WithAttributes(new ManifestEntry(entryName, 0, EmptySha256, modifiedAt), attributes);
        _entries.Add(recorded);
        return recorded;
    }

    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static ManifestEntry WithAttributes(ManifestEntry entry,
        ZipEntryAttributes? attributes) => attributes is null ? entry
        : entry with { Mode = ManifestEntry.FormatMode(attributes.Mode), Uid = attributes.Uid, Gid = attributes.Gid };

    /// <summary>Adds an entry compressed ahead of time by <see cref="PrecompressedFile"/>, copying its bytes as they
    /// are.</summary>
    public async Task<ManifestEntry> AddPrecompressedAsync(string entryName, DateTimeOffset modifiedAt,
        PrecompressedContent content, string path,
        CancellationToken cancellationToken)
    {
        uint? storedCrc;
        await using (var source = new UncachedFileReader(path))
            storedCrc = await _zip.AddPrecompressedAsync(entryName, modifiedAt, content, source,
                cancellationToken).ConfigureAwait(false);
        var recorded = new ManifestEntry(entryName, content.Size, content.Sha256, modifiedAt, storedCrc);
        _entries.Add(recorded);
        return recorded;
    }

    /// <summary>Starts an entry whose compressed bytes arrive later, through the returned stream (see <see
    /// cref="PrecompressedSink"/>).</summary>
    public ZipWriter.RawEntry OpenPrecompressed(string entryName, DateTimeOffset modifiedAt, bool deflated) =>
        _zip.OpenRawEntry(entryName, modifiedAt, deflated);

    /// <summary>Completes an entry from <see cref="OpenPrecompressed"/> once all its bytes are written.</summary>
    public ManifestEntry CompletePrecompressed(string entryName, DateTimeOffset modifiedAt, ZipWriter.RawEntry entry,
        PrecompressedContent content)
    {
        var storedCrc = entry.Complete(content.Crc32, content.Size);
        var recorded = new ManifestEntry(entryName, content.Size, content.Sha256, modifiedAt, storedCrc);
        _entries.Add(recorded);
        return recorded;
    }

    /// <summary>
    /// Writes the manifest entry, the central directory and a provisional summary comment, and returns the summary.
    /// Then <see cref="ArchiveSummary.SealFile"/> records the central directory's hash.
    /// </summary>
    public ArchiveSummary Complete(BackupManifest manifest, string? requestedBy)
    {
        // Serialized straight into the entry and hashed on the way: a manifest of 100,000 files is never held as bytes.
        // Deflated in content-defined chunks after a head of its own, as the dump: the next backup's manifest, with a
        // new time at its top and the new dump's hash at its end, then shares the bytes of its middle off-site.
        string manifestSha256;
        uint crc;
        long size;
        var raw = _zip.OpenRawEntry(BackupManifest.EntryName, manifest.CreatedAt, deflated: true);
        using (var deflate = new ParallelDeflateStream(raw, ZlibLevel(CompressionLevel.Fastest), workers: 1,
            ManifestChunkSize, contentDefinedCuts: true, headLines: ManifestHeadLines))
        {
            using (var hashing = new HashingStream(deflate, forRead: false, withCrc32: true))
            {
                JsonSerializer.Serialize(hashing, manifest, BackupJson.Options);
                (manifestSha256, crc, size) = (hashing.HashHex(), hashing.Crc32, hashing.BytesHashed);
            }
            deflate.Complete();
        }
        var storedCrc = raw.Complete(crc, size);
        var summary = new ArchiveSummary
        {
            CreatedAt = manifest.CreatedAt,
            Trigger = manifest.Trigger,
            Contains = manifest.Contains,
            RequestedBy = requestedBy,
            Entries = manifest.Totals.Entries,
            Bytes = manifest.Totals.Bytes,
            Warnings = manifest.Warnings.Count,
            ManifestSha256 = manifestSha256,
            ManifestStoredCrc32 = storedCrc,
        };
        _zip.Finish(Encoding.UTF8.GetBytes(summary.ToComment()));
        return summary;
    }

    private static int ZlibLevel(CompressionLevel level) => level switch
    {
        CompressionLevel.NoCompression => 0,
        CompressionLevel.Fastest => 1,
        CompressionLevel.SmallestSize => 9,
        _ => 6,
    };
}
