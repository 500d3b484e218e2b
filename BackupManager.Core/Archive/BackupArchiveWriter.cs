using System.IO.Compression;
using System.Text.Json;

namespace BackupManager.Core.Archive;

/// <summary>
/// Streams entries into a standard zip (Zip64 when needed) and records each entry's size and SHA-256, hashed while
/// it is written. <see cref="Complete"/> appends <c>manifest.json</c> and the <see cref="ArchiveSummary"/> comment.
/// Memory stays flat: content is copied through one 1 MiB buffer and never held whole.
/// </summary>
internal sealed class BackupArchiveWriter : IDisposable
{
    public const int BufferSize = 1 << 20;
    private readonly ZipArchive _zip;
    private readonly List<ManifestEntry> _entries = [];

    public BackupArchiveWriter(Stream output)
    {
        _zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
    }

    public IReadOnlyList<ManifestEntry> Entries => _entries;

    /// <summary>Adds one entry whose content <paramref name="writeContent"/> writes; returns what the manifest records.</summary>
    public async Task<ManifestEntry> AddAsync(string entryName, CompressionLevel level, DateTimeOffset? modifiedAt,
        Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        var entry = _zip.CreateEntry(entryName, level);
        if (modifiedAt is { } time) entry.LastWriteTime = ClampToZipRange(time);
        ManifestEntry recorded;
        await using (var entryStream = entry.Open())
        await using (var hashing = new HashingStream(entryStream, forRead: false))
        {
            await writeContent(hashing, cancellationToken).ConfigureAwait(false);
            recorded = new ManifestEntry(entryName, hashing.BytesHashed, hashing.HashHex(), modifiedAt);
        }
        _entries.Add(recorded);
        return recorded;
    }

    /// <summary>
    /// Writes the manifest entry and a provisional summary comment, and returns the summary. The zip is finished when
    /// the writer is disposed; then <see cref="ArchiveSummary.SealFile"/> records the central directory's hash.
    /// </summary>
    public ArchiveSummary Complete(BackupManifest manifest, string? requestedBy)
    {
        // Serialized straight into the entry and hashed on the way: a manifest of 100,000 files is never held as bytes.
        var entry = _zip.CreateEntry(BackupManifest.EntryName, CompressionLevel.Fastest);
        entry.LastWriteTime = ClampToZipRange(manifest.CreatedAt);
        string manifestSha256;
        using (var stream = entry.Open())
        using (var hashing = new HashingStream(stream, forRead: false))
        {
            JsonSerializer.Serialize(hashing, manifest, BackupJson.Options);
            manifestSha256 = hashing.HashHex();
        }
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
        };
        _zip.Comment = summary.ToComment();
        return summary;
    }

    public void Dispose() => _zip.Dispose();

    private static DateTimeOffset ClampToZipRange(DateTimeOffset time)
    {
        // The DOS time field in zip headers covers 1980–2107; the exact time is kept in the manifest.
        var min = new DateTimeOffset(1980, 1, 2, 0, 0, 0, TimeSpan.Zero);
        var max = new DateTimeOffset(2107, 12, 30, 0, 0, 0, TimeSpan.Zero);
        return time < min ? min : time > max ? max : time;
    }
}
