namespace BackupManager.Core;

/// <summary>
/// <c>manifest.json</c>, the last entry of every archive: what the backup holds and the SHA-256 of every other entry.
/// Its own SHA-256 is in the archive comment (<see cref="Archive.ArchiveSummary"/>), so an edited manifest is detected
/// too.
/// </summary>
public sealed record BackupManifest
{
    /// <summary>2: database-level state, roles (db/roles.sql), file modes, owners and folder entries.</summary>
    public const int CurrentFormatVersion = 2;
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

/// <summary>
/// The database in a backup: its dump entry, its database-level <see cref="State"/> and the <see cref="Roles"/> it
/// needs, also written for psql as <see cref="RolesEntry"/> (both absent in archives of format 1).
/// </summary>
public sealed record ManifestDatabase(string Name, string ServerVersion, string PgDumpVersion, string Entry)
{
    public Database.DatabaseState? State { get; init; }
    public IReadOnlyList<Database.RoleRecord>? Roles { get; init; }
    public string? RolesEntry { get; init; }
    /// <summary>Rows of each table ("schema.table") in the dump, counted as it was written; what a restore drill
    /// compares.</summary>
    public IReadOnlyDictionary<string, long>? RowCounts { get; init; }
    /// <summary>The WAL position (LSN) of the dump's snapshot, read in the transaction that exported it; what a drill
    /// recovers to with point-in-time recovery (absent in archives made before it was recorded). Written first: it
    /// changes in every backup and belongs in the manifest's head (see <c>BackupArchiveWriter</c>).</summary>
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public string? SnapshotLsn { get; init; }
}

/// <summary>A backed-up folder: <see cref="Name"/> is its folder under <c>files/</c>, <see cref="SourcePath"/> where it
/// was.</summary>
public sealed record ManifestRoot(string Name, string SourcePath, int FileCount, long Bytes);

/// <summary>
/// One entry: its content's size and SHA-256, and for a deflated entry <see cref="StoredCrc32"/>, the CRC-32 of its
/// bytes
/// as stored (absent in archives made before it was recorded).
/// </summary>
public sealed record ManifestEntry(string Path, long Size, string Sha256, DateTimeOffset? ModifiedAt = null,
    uint? StoredCrc32 = null)
{
    /// <summary>Permission bits in octal ("0640") of a backed-up file or folder (absent before format 2).</summary>
    public string? Mode { get; init; }
    /// <summary>Owner and group, recorded when the backup ran as root (only root can give them back).</summary>
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }

    /// <summary>A folder entry: its path ends with '/' and it has no content.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsDirectory => Path.EndsWith('/');

    /// <summary>The permission bits as a number, or null when not recorded.</summary>
    public uint? PermissionBits() => Mode is null ? null : Convert.ToUInt32(Mode, 8);

    public static string FormatMode(uint permissions) => "0" + Convert.ToString(permissions & 0xFFF, 8).PadLeft(3, '0');
}

public sealed record ManifestTotals(int Entries, long Bytes);
