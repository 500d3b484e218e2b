using BackupManager.Core.IO;
using System.Collections.Concurrent;
using System.Text.Json;
using BackupManager.Core.Archive;

namespace BackupManager.Core.Storage;

/// <summary>The backup folder on a local (or mounted) file system. See <see cref="IBackupStore"/> for the
/// contract.</summary>
public sealed class BackupFolderStore : IBackupStore
{
    private const string TempPrefix = ".backup-";
    private const string TempMarker = ".tmp-";
    internal const string UploadPrefix = ".upload-";
    private const string PinsFileName = ".pins.json";
    private readonly ConcurrentDictionary<string,
        (long Size, DateTime Modified, ArchiveSummary? Summary)> _summaries = new(StringComparer.Ordinal);
    private readonly Lock _pinsLock = new();

    private readonly ArchiveSigner? _signer;

    /// <summary>A store over <paramref name="directory"/>; with a <paramref name="signer"/>, unsigned archives are
    /// listed as foreign.</summary>
    public BackupFolderStore(string directory, ArchiveSigner? signer = null)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _signer = signer;
    }

    public string Directory { get; }

    public IReadOnlyList<BackupInfo> List()
    {
        var pins = ReadPins();
        var result = new List<BackupInfo>();
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles("backup-*.zip"))
        {
            if (!BackupFileName.IsValid(file.Name) || file.LinkTarget is not null) continue;
            ArchiveSummary? summary;
            try { summary = SummaryOf(file); }
            catch (IOException) { continue; } // deleted while listing
            result.Add(summary is null
                ? new BackupInfo(file.Name, file.Length, BackupFileName.TimeOf(file.Name), BackupTrigger.Unknown, [],
                    null, pins.Contains(file.Name), false, 0)
                : new BackupInfo(file.Name, file.Length, summary.CreatedAt, summary.Trigger, summary.Contains,
                    summary.RequestedBy,
                    pins.Contains(file.Name), true, summary.Warnings)
                {
                    Foreign = _signer is not null && !_signer.IsOwn(summary, file.Name),
                    DatabaseBytes = summary.DatabaseBytes,
                    FilesBytes = summary.FilesBytes,
                    Duration = summary.DurationMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                });
        }
        result.Sort((a, b) => b.CreatedAt.CompareTo(a.CreatedAt) is var c && c != 0
            ? c : string.CompareOrdinal(b.Filename, a.Filename));
        return result;
    }

    public string ResolveExisting(string filename)
    {
        if (!BackupFileName.IsValid(filename))
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"'{BackupFileName.Printable(filename)}' is not a backup filename. Backup names look like "
                    + $"{BackupFileName.Format}; list them with app:list-backups.");
        var path = Path.Combine(Directory, filename);
        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null)
            throw new BackupException(BackupErrorKind.NotFound,
                $"There is no backup named {filename}. List the existing backups with app:list-backups.");
        return path;
    }

    public string NewTempPath() =>
        Path.Combine(Directory,
            TempPrefix + DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss",
            System.Globalization.CultureInfo.InvariantCulture) + TempMarker + Guid.NewGuid().ToString("N")[..12]);

    public string NewUploadPath() => Path.Combine(Directory,
        UploadPrefix + Guid.NewGuid().ToString("N")[..12] + TempMarker.TrimEnd('-'));

    public string Commit(string tempPath, DateTimeOffset createdAt)
    {
        var when = createdAt;
        while (true)
        {
            var name = BackupFileName.For(when);
            try
            {
                // Names are unique to the second; a second backup within the same second takes the next free one.
                File.Move(tempPath, Path.Combine(Directory, name), overwrite: false);
                NativeFileSystem.FsyncDirectory(Directory);
                return name;
            }
            catch (IOException) when (File.Exists(Path.Combine(Directory, name)))
            {
                when = when.AddSeconds(1);
            }
        }
    }

    public void Delete(string filename)
    {
        var path = ResolveExisting(filename);
        File.Delete(path);
        NativeFileSystem.FsyncDirectory(Directory);
        _summaries.TryRemove(filename, out _);
        SetPinned(filename, false);
    }

    public void SetPinned(string filename, bool pinned)
    {
        lock (_pinsLock)
        {
            var pins = ReadPins();
            if (!(pinned ? pins.Add(filename) : pins.Remove(filename))) return;
            AtomicFile.WriteAllBytes(Path.Combine(Directory, PinsFileName),
                JsonSerializer.SerializeToUtf8Bytes(pins.Order(StringComparer.Ordinal), BackupJson.Options));
        }
    }

    public int RemoveLeftovers()
    {
        var removed = 0;
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles(TempPrefix + "*"))
        {
            if (!file.Name.Contains(TempMarker, StringComparison.Ordinal)) continue;
            file.Delete();
            removed++;
        }
        // Uploads stream without the lock, so only ones abandoned long ago are certainly dead.
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles(UploadPrefix + "*"))
        {
            if (DateTime.UtcNow - file.LastWriteTimeUtc < TimeSpan.FromDays(1)) continue;
            file.Delete();
            removed++;
        }
        if (removed > 0) NativeFileSystem.FsyncDirectory(Directory);
        return removed;
    }

    private ArchiveSummary? SummaryOf(FileInfo file)
    {
        if (_summaries.TryGetValue(file.Name,
            out var cached) && cached.Size == file.Length && cached.Modified == file.LastWriteTimeUtc)
            return cached.Summary;
        var summary = ArchiveSummary.ReadFromFile(file.FullName);
        _summaries[file.Name] = (file.Length, file.LastWriteTimeUtc, summary);
        return summary;
    }

    private HashSet<string> ReadPins()
    {
        var path = Path.Combine(Directory, PinsFileName);
        try { return JsonSerializer.Deserialize<HashSet<string>>(File.ReadAllBytes(path), BackupJson.Options) ?? []; }
        catch (FileNotFoundException) { return []; }
        catch (JsonException) { return []; }
    }
}
