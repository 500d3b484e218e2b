namespace BackupManager.Core;

/// <summary>
/// <c>manifest.json</c>, the last entry of every archive: what the backup holds and the SHA-256 of every other entry.
/// Its own SHA-256 is in the archive comment (<see cref="Archive.ArchiveSummary"/>), so an edited manifest is detected too.
/// </summary>
public sealed record BackupManifest
{
    public const int CurrentFormatVersion = 1;
    public const string EntryName = "manifest.json";

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public string AppVersion { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public BackupTrigger Trigger { get; init; }
    public string RequestedBy { get; init; } = "";
    public IReadOnlyList<string> Contains { get; init; } = [];
    public ManifestDatabase? Database { get; init; }
    public IReadOnlyList<ManifestRoot> Roots { get; init; } = [];
    public IReadOnlyList<ManifestEntry> Entries { get; init; } = [];
    public ManifestTotals Totals { get; init; } = new(0, 0);
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

public sealed record ManifestDatabase(string Name, string ServerVersion, string PgDumpVersion, string Entry);

/// <summary>A backed-up folder: <see cref="Name"/> is its folder under <c>files/</c>, <see cref="SourcePath"/> where it was.</summary>
public sealed record ManifestRoot(string Name, string SourcePath, int FileCount, long Bytes);

/// <summary>
/// One entry: its content's size and SHA-256, and for a deflated entry <see cref="StoredCrc32"/>, the CRC-32 of its bytes
/// as stored (absent in archives made before it was recorded).
/// </summary>
public sealed record ManifestEntry(string Path, long Size, string Sha256, DateTimeOffset? ModifiedAt = null, uint? StoredCrc32 = null);

public sealed record ManifestTotals(int Entries, long Bytes);
