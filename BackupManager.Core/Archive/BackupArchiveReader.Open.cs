using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

internal sealed partial class BackupArchiveReader
{
    /// <summary>What manifest.json may take besides its entries, and per entry of the zip (a path of 4,096 characters,
    /// each escaped, takes about 24 KiB); more is a crafted archive, refused before it costs the disk or the CPU.
    /// </summary>
    private const long ManifestBaseBytes = 64L << 20, ManifestBytesPerEntry = 32L << 10;

    /// <summary>Opens and structurally checks <paramref name="path"/>; <paramref name="displayName"/> names it in
    /// errors. What grows with the number of files (the zip directory, the manifest's entries) goes to spill files
    /// beside the archive, so memory stays flat at any size.</summary>
    public static BackupArchiveReader Open(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        var file = new UncachedFileReader(path, FileShare.Read | FileShare.Delete);
        Catalog? catalog = null;
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
            catalog = Catalog.Create(path);
            var directory = catalog.Directory;
            try
            {
                var layout = ZipStructure.Locate(file, endRecord);
                if (!string.Equals(ZipStructure.DirectoryHash(file, layout), summary.DirectorySha256,
                    StringComparison.Ordinal))
                    throw Damaged(name, "its zip directory does not match the checksum recorded when it was made");
                if (ZipStructure.Walk(file, layout, entry =>
                    {
                        if (ArchivePath.Problem(entry.Name) is { } problem) throw Damaged(name,
                            $"it contains {problem}");
                        directory.Add(entry);
                    }) is { } broken) throw Damaged(name, broken);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentOutOfRangeException)
            {
                throw Damaged(name, $"its zip structure is broken ({e.Message})");
            }
            if (directory.Seal() is { } twice) throw Damaged(name, $"the entry '{twice}' appears twice");
            var manifestEntry = directory.Find(BackupManifest.EntryName) ?? throw Damaged(name,
                "it has no manifest.json");

            var manifest = ReadManifest(file, manifestEntry, summary, catalog.Entries, directory.Count - 1, name);
            if (manifest.FormatVersion > BackupManifest.CurrentFormatVersion)
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{name} was made by a newer BackupManager (format {manifest.FormatVersion}); upgrade this "
                        + $"installation to read it.");
            CheckCorrespondence(manifest, directory, name);
            var reader = new BackupArchiveReader(name, file, catalog, manifest);
            catalog = null;
            return reader;
        }
        catch (IOException e) when (e is not EndOfStreamException) // a failing disk, or no room for scratch files
        {
            catalog?.RemoveReader();
            file.Dispose();
            var why = $"it could not be read, or its scratch files could not be written beside it "
                + $"({e.Message.Replace(path, name, StringComparison.Ordinal)})";
            var error = new BackupException(BackupErrorKind.Environment, $"{name} could not be checked: {why}. "
                + "Check the free space in the backup folder and the disk's health (dmesg), then try again.", e);
            error.Data[WhyKey] = why;
            throw error;
        }
        catch
        {
            catalog?.RemoveReader();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Streams manifest.json into <paramref name="entries"/> while hashing it; its bytes are checked (length,
    /// CRC-32s, the SHA-256 the summary records) before its JSON is judged, so an edited manifest says so.</summary>
    private static BackupManifest ReadManifest(UncachedFileReader file, ZipStructure.Entry entry,
        ArchiveSummary summary, SpilledManifestEntries entries, int otherEntries, string filename)
    {
        if (entry.Size > ManifestBaseBytes + otherEntries * ManifestBytesPerEntry) throw Damaged(filename,
            "manifest.json is implausibly large");
        BackupManifest? manifest = null;
        Exception? invalid = null;
        try
        {
            using var stored = new StoredBytes(file, entry, summary.ManifestStoredCrc32);
            using var hashing = new HashingStream(new LimitedStream(stored.Content, entry.Size), forRead: true,
                withCrc32: true);
            try { manifest = new ManifestJsonReader(hashing, entries, otherEntries).Read(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) // the latter: text not UTF-8
            {
                invalid = e;
                hashing.CopyTo(Stream.Null); // the rest, so that the checksums below cover every byte
            }
            if (hashing.BytesHashed != entry.Size) throw new InvalidDataException(
                "it is shorter than its directory entry says");
            if (stored.Problem() is { } problem) throw new InvalidDataException(problem);
            if (hashing.Crc32 != entry.Crc32) throw new InvalidDataException(
                "it does not match the CRC-32 in its zip headers");
            if (!string.Equals(hashing.HashHex(), summary.ManifestSha256, StringComparison.Ordinal))
                throw Damaged(filename,
                    "manifest.json does not match the checksum recorded in the archive (it was edited or corrupted)");
        }
        catch (InvalidDataException e) { throw Damaged(filename, $"manifest.json cannot be read ({e.Message})"); }
        if (invalid is not null) throw Damaged(filename, $"manifest.json is not valid ({invalid.Message})");
        return manifest!;
    }

    /// <summary>Every entry the manifest lists is in the zip with the size it records, once, and every zip entry but
    /// the manifest itself is listed.</summary>
    private static void CheckCorrespondence(BackupManifest manifest, ArchiveDirectoryIndex directory, string name)
    {
        foreach (var recorded in manifest.Entries)
        {
            if (ArchivePath.Problem(recorded.Path) is { } problem) throw Damaged(name,
                $"its manifest lists {problem}");
            if (!directory.MarkListed(recorded.Path, out var entry, out var twice)) throw Damaged(name, twice
                ? $"its manifest lists '{recorded.Path}' twice"
                : $"the entry '{recorded.Path}' listed in the manifest is missing");
            if (entry!.Size != recorded.Size) throw Damaged(name,
                $"the entry '{recorded.Path}' has {entry.Size} bytes but the manifest records {recorded.Size}");
            if (!entry.Deflated && recorded.StoredCrc32 is not null) throw Damaged(name,
                $"the entry '{recorded.Path}' is stored but the manifest records it as deflated");
        }
        directory.EndJoin();
        if (directory.FirstUnlisted(BackupManifest.EntryName) is { } unlisted)
            throw Damaged(name, $"the entry '{unlisted}' is not listed in the manifest");
    }

    /// <summary>What the readers of one archive share: its directory and its manifest's entries, in spill files that
    /// close with the last reader.</summary>
    private sealed class Catalog(ArchiveDirectoryIndex directory, SpilledManifestEntries entries)
    {
        private int _readers = 1;

        public ArchiveDirectoryIndex Directory => directory;
        public SpilledManifestEntries Entries => entries;

        /// <summary>Spill files beside the archive (a folder BackupManager owns), or in the temp folder when that one
        /// cannot be written; their names are gone as soon as they are open.</summary>
        public static Catalog Create(string archivePath)
        {
            try { return CreateIn(Path.GetDirectoryName(Path.GetFullPath(archivePath))!); }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                try { return CreateIn(Path.GetTempPath()); }
                catch (UnauthorizedAccessException denied) { throw new IOException(denied.Message, denied); }
            }
        }

        private static Catalog CreateIn(string folder)
        {
            var scratch = Path.Combine(folder, $".reading-{Guid.NewGuid():N}");
            var index = new ArchiveDirectoryIndex(scratch + ".directory");
            try { return new Catalog(index, new SpilledManifestEntries(scratch + ".entries")); }
            catch
            {
                index.Dispose();
                throw;
            }
        }

        public void AddReader()
        {
            if (Interlocked.Increment(ref _readers) <= 1) throw new ObjectDisposedException(nameof(Catalog));
        }

        public void RemoveReader()
        {
            if (Interlocked.Decrement(ref _readers) != 0) return;
            directory.Dispose();
            entries.Dispose();
        }
    }

    /// <summary>At most <c>limit</c> bytes of content; one more is an error (a deflate stream that inflates past its
    /// declared size).</summary>
    private sealed class LimitedStream(Stream inner, long limit) : ReadOnlyStream
    {
        private long _read;

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, limit - _read + 1)]);
            _read += read;
            if (_read > limit) throw new InvalidDataException("it is longer than its directory entry says");
            return read;
        }
    }
}
