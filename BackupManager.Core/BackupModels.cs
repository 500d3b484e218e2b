using BackupManager.Core.Locking;
namespace BackupManager.Core;

/// <summary>Why a backup was made; retention keeps each kind by its own rule.</summary>
public enum BackupTrigger { Manual, Daily, Weekly, PreRestore, Upload, Unknown, PointInTime }

/// <summary>What a create or restore covers.</summary>
public enum BackupScope { Full, DatabaseOnly, FilesOnly }

/// <summary>One backup in the backup folder, as the list shows it.</summary>
public sealed record BackupInfo(
    string Filename,
    long Size,
    DateTimeOffset CreatedAt,
    BackupTrigger Trigger,
    IReadOnlyList<string> Contains,
    string? RequestedBy,
    bool Pinned,
    bool Readable,
    int WarningCount)
{
    /// <summary>Not made by this installation (no signature of its own): uploaded, or copied in by hand.</summary>
    public bool Foreign { get; init; }
    /// <summary>Uncompressed bytes of the dump and of the files, and how long the create took (null for older
    /// archives).</summary>
    public long? DatabaseBytes { get; init; }
    public long? FilesBytes { get; init; }
    public TimeSpan? Duration { get; init; }
    public bool HasDatabase => Contains.Contains(BackupContents.Database);
    public bool HasFiles => Contains.Contains(BackupContents.Files);
}

/// <summary>
/// How a create shares the machine: <see cref="Normal"/> uses every core (right at night); <see cref="Low"/> yields
/// to the clinic's database — niced, idle I/O class, and its reading limited to
/// <c>Backup__LowPriorityBytesPerSecond</c> while the database server serves others (full speed while it is quiet).
/// </summary>
public enum BackupPriority { Normal, Low }

/// <summary>A request to make a backup. <paramref name="RequestedBy"/> is the acting user, or the job for
/// schedules.</summary>
public sealed record CreateBackupRequest(BackupScope Scope, BackupTrigger Trigger, string RequestedBy,
    BackupPriority Priority = BackupPriority.Normal, BackupOperationLock.Lease? Lease = null);

/// <summary>
/// A request to restore <paramref name="Filename"/> over the live database and folders. <paramref name="AllowForeign"/>
/// is the explicit confirmation a foreign archive (not made by this installation) needs.
/// </summary>
public sealed record RestoreBackupRequest(string Filename, BackupScope Scope, string RequestedBy,
    bool AllowForeign = false, BackupOperationLock.Lease? Lease = null);

/// <summary>What a restore did.</summary>
public sealed record RestoreResult(string Filename, string? SafetyBackup, bool RestoredDatabase,
    IReadOnlyList<string> RestoredFolders, IReadOnlyList<string> Warnings);

/// <summary>A verified archive: how many entries and bytes were checked, and its manifest without its entries (they
/// may number millions; <see cref="Entries"/> counts them).</summary>
public sealed record VerificationReport(string Filename, int Entries, long Bytes, BackupManifest Manifest);

/// <summary>Progress of a long operation, for terminals, pages and API jobs.</summary>
public sealed record BackupProgress(string Operation, string Phase, double? Fraction = null, string? Detail = null);

/// <summary>The backup folder at a glance. <see cref="UnfinishedRestore"/> says what an interrupted or half-finished
/// restore left, if anything.</summary>
public sealed record BackupFolderStatus(int Count, int MaxBackups, long TotalBytes, long FreeBytes, BackupInfo? Newest,
    string? UnfinishedRestore = null);
