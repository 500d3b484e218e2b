using System.Security.Cryptography;
using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Opens an archive and proves it is what its manifest says before anyone trusts it. Opening checks the structure
/// (every byte outside the entries' data, see <see cref="ZipStructure"/>; exactly one manifest, unedited; every entry
/// name safe; entries and manifest in one-to-one correspondence); <see cref="VerifyAsync"/> re-reads every entry and
/// checks its SHA-256, the CRC-32 its zip headers give (what <c>unzip</c> checks, for a restore by hand) and, for a
/// deflated entry, the CRC-32 of its stored bytes. Entries are decoded here, from the
/// offsets the checked directory gives, not by System.IO.Compression, whose reader skips a deflate stream's padding
/// and any bytes after its end. Every failure is a <see cref="BackupException"/> of kind
/// <see cref="BackupErrorKind.Damaged"/> that names the first bad entry.
/// </summary>
internal sealed partial class BackupArchiveReader : IDisposable
{
    private readonly UncachedFileReader _file;
    private Dictionary<string, ZipStructure.Entry> _entries;

    /// <summary>The checked manifest; released by <see cref="Dispose"/> (with 100,000 files it holds tens of
    /// megabytes).</summary>
    public BackupManifest Manifest { get; private set; }
    public string Filename { get; }

    private BackupArchiveReader(string name, UncachedFileReader file, Dictionary<string, ZipStructure.Entry> entries,
        BackupManifest manifest)
    {
        Filename = name;
        _file = file;
        _entries = entries;
        Manifest = manifest;
    }

    /// <summary>Opens and structurally checks <paramref name="path"/>; <paramref name="displayName"/> names it in
    /// errors.</summary>
    public static BackupArchiveReader Open(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        var file = new UncachedFileReader(path, FileShare.Read | FileShare.Delete);
        try
        {
            var (endRecord, comment) = ArchiveSummary.FindComment(file);
            if (endRecord < 0) throw Damaged(name,
                "it is not a readable zip file (it has no end-of-central-directory record); it may be truncated or "
                + "corrupted");
            var summary = ArchiveSummary.FromComment(comment) ?? throw Damaged(name,
                comment?.Contains(ArchiveSummary.Marker, StringComparison.Ordinal) == true
                ? "its summary (the zip comment) is damaged"
                : "it is not a BackupManager archive (its zip comment carries no BackupManager summary)");
            ZipStructure.Directory directory;
            try
            {
                var layout = ZipStructure.Locate(file, endRecord);
                if (!string.Equals(ZipStructure.DirectoryHash(file, layout), summary.DirectorySha256,
                    StringComparison.Ordinal))
                    throw Damaged(name, "its zip directory does not match the checksum recorded when it was made");
                directory = ZipStructure.ReadEntries(file, layout);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentOutOfRangeException)
            {
                throw Damaged(name, $"its zip structure is broken ({e.Message})");
            }
            if (directory.Problem is { } broken) throw Damaged(name, broken);
            var entries = new Dictionary<string, ZipStructure.Entry>(StringComparer.Ordinal);
            foreach (var entry in directory.Entries)
            {
                if (!entries.TryAdd(entry.Name, entry)) throw Damaged(name, $"the entry '{entry.Name}' appears twice");
                if (ArchivePath.Problem(entry.Name) is { } problem) throw Damaged(name, $"it contains {problem}");
            }
            if (!entries.TryGetValue(BackupManifest.EntryName, out var manifestEntry)) throw Damaged(name,
                "it has no manifest.json");

            var manifestBytes = ReadManifest(file, manifestEntry, summary.ManifestStoredCrc32, name);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(manifestBytes)), summary.ManifestSha256,
                StringComparison.Ordinal))
                throw Damaged(name,
                    "manifest.json does not match the checksum recorded in the archive (it was edited or corrupted)");
            BackupManifest manifest;
            try { manifest = JsonSerializer.Deserialize<BackupManifest>(manifestBytes,
                BackupJson.Options) ?? throw new JsonException("empty"); }
            catch (JsonException e) { throw Damaged(name, $"manifest.json is not valid ({e.Message})"); }
            if (manifest.FormatVersion > BackupManifest.CurrentFormatVersion)
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{name} was made by a newer BackupManager (format {manifest.FormatVersion}); upgrade this "
                        + $"installation to read it.");

            var listed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var recorded in manifest.Entries)
            {
                if (ArchivePath.Problem(recorded.Path) is { } problem) throw Damaged(name,
                    $"its manifest lists {problem}");
                if (!listed.Add(recorded.Path)) throw Damaged(name, $"its manifest lists '{recorded.Path}' twice");
                if (!entries.TryGetValue(recorded.Path, out var entry)) throw Damaged(name,
                    $"the entry '{recorded.Path}' listed in the manifest is missing");
                if (entry.Size != recorded.Size) throw Damaged(name,
                    $"the entry '{recorded.Path}' has {entry.Size} bytes but the manifest records {recorded.Size}");
                if (!entry.Deflated && recorded.StoredCrc32 is not null) throw Damaged(name,
                    $"the entry '{recorded.Path}' is stored but the manifest records it as deflated");
            }
            foreach (var entryName in entries.Keys)
                if (entryName != BackupManifest.EntryName && !listed.Contains(entryName))
                    throw Damaged(name, $"the entry '{entryName}' is not listed in the manifest");
            return new BackupArchiveReader(name, file, entries, manifest);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Re-reads every entry (or those <paramref name="only"/> picks) and compares its SHA-256 with the
    /// manifest; with <paramref name="crc32Only"/>, checks its content against the CRC-32 in its zip headers instead
    /// (see <see cref="ReadBackAsync"/>).</summary>
    public async Task<VerificationReport> VerifyAsync(IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken, Func<ManifestEntry, bool>? only = null, bool crc32Only = false)
    {
        long total = Math.Max(1, Manifest.Totals.Bytes), done = 0;
        var buffer = new byte[BackupArchiveWriter.BufferSize];
        foreach (var recorded in Manifest.Entries)
        {
            if (only is not null && !only(recorded)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            await using var stream = OpenChecked(recorded, checkSha256: !crc32Only);
            while (await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0) { }
            done += recorded.Size;
            progress?.Report(new BackupProgress("verify", "Checking entries", (double)done / total, recorded.Path));
        }
        return new VerificationReport(Filename, Manifest.Entries.Count, Manifest.Totals.Bytes, Manifest);
    }

    /// <summary>
    /// A stream over an entry's content that fails with Damaged at its end if the bytes read do not hash to the
    /// manifest's value, so even content consumed straight by pg_restore is checked.
    /// </summary>
    public Stream OpenVerified(ManifestEntry recorded) => OpenChecked(recorded, checkSha256: true);

    private VerifiedEntryStream OpenChecked(ManifestEntry recorded, bool checkSha256)
    {
        var entry = _entries[recorded.Path];
        var stored = new StoredBytes(_file, entry, recorded.StoredCrc32);
        return new VerifiedEntryStream(stored, entry.Crc32, recorded, Filename, checkSha256);
    }

    /// <summary>A second reader of this archive for another thread: its own position in the same open file, and the
    /// manifest and directory this one checked, shared rather than read and held twice. It still reads if this one is
    /// disposed first, but without the file's share lock: dispose it first.</summary>
    public BackupArchiveReader OpenSibling()
    {
        ObjectDisposedException.ThrowIf(Manifest is null, this);
        return new BackupArchiveReader(Filename, new UncachedFileReader(_file), _entries, Manifest);
    }

    public void Dispose()
    {
        _file.Dispose();
        Manifest = null!;
        _entries = [];
    }

    /// <summary>
    /// Reads a new archive back in full before it is kept, as <c>unzip -t</c> would and more strictly: the structure
    /// and manifest as <see cref="Open"/> checks them, and every entry decoded (every deflate stream complete, nothing
    /// after its end) and checked by the CRC-32 its zip headers carry and, when deflated, the CRC-32 of its bytes as
    /// stored. Not by SHA-256: each CRC-32 was computed from the same bytes as the SHA-256 when the entry was written,
    /// so a failing disk or a faulty compressor is caught alike (a damaged entry passes with a chance of 1 in 4
    /// billion) at a fraction of the CPU; verify, restore and drills check every SHA-256. The database dump (inflating
    /// it is most of the work) is checked by a second reader (<see cref="OpenSibling"/>) on another core while the
    /// files are checked.
    /// </summary>
    public static async Task ReadBackAsync(string path, CancellationToken cancellationToken)
    {
        using var files = Open(path);
        static bool IsDump(ManifestEntry e) => ArchivePath.IsDump(e.Path);
        if (files.Manifest.Database is null)
        {
            await files.VerifyAsync(null, cancellationToken, crc32Only: true).ConfigureAwait(false);
            return;
        }
        using var dump = files.OpenSibling();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task CheckAsync(BackupArchiveReader reader, Func<ManifestEntry, bool> only)
        {
            try { await reader.VerifyAsync(null, stop.Token, only, crc32Only: true).ConfigureAwait(false); }
            catch { await stop.CancelAsync().ConfigureAwait(false); throw; } // the other reader need not read on
        }
        await TaskGroup.WhenAllAsync(Task.Run(() => CheckAsync(dump, IsDump)),
            Task.Run(() => CheckAsync(files, e => !IsDump(e)))).ConfigureAwait(false);
    }

    /// <summary>The key under which a Damaged exception's <see cref="Exception.Data"/> holds just what was wrong.
    /// </summary>
    public const string WhyKey = "why";

    public static BackupException Damaged(string filename, string why)
    {
        var damaged = new BackupException(BackupErrorKind.Damaged,
            $"The backup {filename} failed verification: {why}. Nothing was changed; use another backup.");
        damaged.Data[WhyKey] = why;
        return damaged;
    }

    private static byte[] ReadManifest(UncachedFileReader file, ZipStructure.Entry entry, uint? storedCrc,
        string filename)
    {
        if (entry.Size > 256L << 20) throw Damaged(filename, "manifest.json is implausibly large");
        try
        {
            using var stored = new StoredBytes(file, entry, storedCrc);
            var bytes = new byte[entry.Size];
            if (stored.Content.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
                throw new InvalidDataException("it is shorter than its directory entry says");
            if (stored.Content.ReadByte() >= 0) throw new InvalidDataException(
                "it is longer than its directory entry says");
            if (stored.Problem() is { } problem) throw new InvalidDataException(problem);
            if (System.IO.Hashing.Crc32.HashToUInt32(bytes) != entry.Crc32) throw new InvalidDataException(
                "it does not match the CRC-32 in its zip headers");
            return bytes;
        }
        catch (InvalidDataException e) { throw Damaged(filename, $"manifest.json cannot be read ({e.Message})"); }
    }
}
