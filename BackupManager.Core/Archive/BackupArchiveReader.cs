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
    private readonly Catalog _catalog;
    private int _disposed;

    /// <summary>The checked manifest. Its <see cref="BackupManifest.Entries"/> are read from a spill file as they are
    /// enumerated (a million files cost no memory), and only while this reader or a sibling is open.</summary>
    public BackupManifest Manifest { get; }
    public string Filename { get; }

    private BackupArchiveReader(string name, UncachedFileReader file, Catalog catalog, BackupManifest manifest)
    {
        Filename = name;
        _file = file;
        _catalog = catalog;
        Manifest = manifest;
    }

    /// <summary>Re-reads every entry (or those <paramref name="only"/> picks) and compares its SHA-256 with the
    /// manifest; with <paramref name="crc32Only"/>, checks its content against the CRC-32 in its zip headers instead
    /// (see <see cref="ReadBackAsync"/>).</summary>
    public async Task<VerificationReport> VerifyAsync(IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken, Func<ManifestEntry, bool>? only = null, bool crc32Only = false)
    {
        long total = Math.Max(1, Manifest.Totals.Bytes), done = 0;
        var buffer = new byte[BackupArchiveWriter.BufferSize];
        // Each entry with its zip record, both read in order from their spill files: no lookup by name per entry.
        using var records = _catalog.Directory.InManifestOrder().GetEnumerator();
        foreach (var recorded in Manifest.Entries)
        {
            if (!records.MoveNext()) throw new InvalidOperationException("The joined directory ended early.");
            if (only is not null && !only(recorded)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            await using var stream = OpenChecked(recorded, records.Current, checkSha256: !crc32Only);
            while (await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0) { }
            done += recorded.Size;
            progress?.Report(new BackupProgress("verify", "Checking entries", (double)done / total, recorded.Path));
        }
        // The report outlives this reader: it carries the manifest without its entries, which may number millions.
        return new VerificationReport(Filename, Manifest.Entries.Count, Manifest.Totals.Bytes,
            Manifest with { Entries = [] });
    }

    /// <summary>
    /// A stream over an entry's content that fails with Damaged at its end if the bytes read do not hash to the
    /// manifest's value, so even content consumed straight by pg_restore is checked.
    /// </summary>
    public Stream OpenVerified(ManifestEntry recorded) => OpenChecked(recorded, null, checkSha256: true);

    private VerifiedEntryStream OpenChecked(ManifestEntry recorded, ZipStructure.Entry? known, bool checkSha256)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var entry = known ?? _catalog.Directory.Find(recorded.Path) ?? throw new ArgumentException(
            $"'{recorded.Path}' is not an entry of {Filename}.", nameof(recorded));
        var stored = new StoredBytes(_file, entry, recorded.StoredCrc32);
        return new VerifiedEntryStream(stored, entry.Crc32, recorded, Filename, checkSha256);
    }

    /// <summary>A second reader of this archive for another thread: its own position in the same open file, and the
    /// manifest and directory this one checked, shared rather than read twice (their spill files close with the last
    /// reader). It still reads if this one is disposed first, but without the file's share lock: dispose it first.
    /// </summary>
    public BackupArchiveReader OpenSibling()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var file = new UncachedFileReader(_file);
        _catalog.AddReader();
        return new BackupArchiveReader(Filename, file, _catalog, Manifest);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _file.Dispose();
        _catalog.RemoveReader();
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
}
