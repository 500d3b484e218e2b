using BackupManager.Core.Locking;
using BackupManager.Core.Retention;

namespace BackupManager.Core;

/// <summary>
/// The backup engine as every front end (page, REST API, console commands, schedules) sees it. Contract:
/// <list type="bullet">
/// <item>Create, restore, drill, upload, exact copy, delete and prune take the cross-process operation lock and fail
/// at once with <see cref="BackupErrorKind.Busy"/> while another operation runs; list, verify and path lookups do not
/// block. A caller that already holds the lock (the job runner, a fetch-then-restore) hands its lease on in the
/// request's <c>Lease</c> (or the <c>lease</c> argument), and the operation runs under it without taking the lock
/// again; the lock is not re-entrant.</item>
/// <item>Filenames are validated by the backup folder: nothing outside it is ever read, written or deleted.</item>
/// <item>A create either produces a complete, listed archive or leaves nothing. A restore verifies first, stages,
/// then changes the database and folders all together or not at all; the state it replaced is parked and archived
/// right after the swap as the pre-restore safety backup (so it holds every write made up to the swap), and the
/// parked copies are dropped only once that backup is written.</item>
/// <item>Every failure meant for a person is a <see cref="BackupException"/> whose message says what to do.</item>
/// <item>The acting user is a parameter (scheduled jobs have none); the engine never reads an HTTP or circuit
/// user.</item>
/// </list>
/// </summary>
public interface IBackupService
{
    Task<IReadOnlyList<BackupInfo>> ListAsync(CancellationToken cancellationToken = default);
    Task<BackupInfo> CreateAsync(CreateBackupRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default);
    Task<VerificationReport> VerifyAsync(string filename, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default);
    Task<RestoreResult> RestoreAsync(RestoreBackupRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default);
    Task DeleteAsync(string filename, string requestedBy, CancellationToken cancellationToken = default);
    Task SetPinnedAsync(string filename, bool pinned, string requestedBy,
        CancellationToken cancellationToken = default);
    /// <summary>Applies (or with <paramref name="dryRun"/> only reports) the retention rules.</summary>
    Task<IReadOnlyList<RetentionDecision>> PruneAsync(bool dryRun, string requestedBy,
        CancellationToken cancellationToken = default);
    /// <summary>The full path of an existing backup, for streaming a download; validates the name like every other
    /// call.</summary>
    string GetArchivePath(string filename);
    /// <summary>Counts, sizes and free space of the backup folder, for summaries and health.</summary>
    Task<BackupFolderStatus> GetStatusAsync(CancellationToken cancellationToken = default);
    /// <summary>
    /// Accepts an archive downloaded earlier: streams it to a temporary file (at most <paramref name="maxBytes"/>),
    /// verifies it completely, and only then adds it under its original name, marked as an upload. A file that is
    /// not a valid BackupManager archive is refused (Damaged) and leaves nothing behind.
    /// </summary>
    Task<BackupInfo> ImportAsync(Stream content, long maxBytes, string requestedBy,
        CancellationToken cancellationToken = default);
    /// <summary>
    /// Adds the archive in <paramref name="rebuiltFile"/> exactly as it is (not marked as an upload: a copy fetched
    /// back from an off-site destination keeps its bytes, so its signature still says whether this installation made
    /// it). The file must be a flushed temp file from <c>IBackupStore.NewUploadPath()</c>; this call owns it from
    /// then on: it is verified completely and renamed to <paramref name="filename"/>, or deleted. If a backup of that
    /// name is already there with the same bytes, that one is returned.
    /// </summary>
    Task<BackupInfo> AddExactCopyAsync(string filename, string rebuiltFile,
        string requestedBy, BackupOperationLock.Lease? lease = null, CancellationToken cancellationToken = default);
    /// <summary>
    /// Restores the exact copy in <paramref name="rebuiltFile"/> (taken over as <see cref="AddExactCopyAsync"/> takes
    /// it) as the backup <paramref name="request"/> names, reading it once instead of twice: its structure, name and
    /// date are checked first, every entry while the restore stages it, and only once all of them passed is it
    /// committed to the backup folder, before anything live is swapped. A copy that fails any check is deleted and
    /// never listed. If the same bytes are already in the folder, that backup is restored. A foreign copy (without
    /// AllowForeign) is refused; it is then verified in full and kept, as a fetch keeps it.
    /// </summary>
    Task<RestoreResult> RestoreExactCopyAsync(string rebuiltFile, RestoreBackupRequest request,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>
    /// A restore drill: restores the newest backup (or the one named) into a scratch database and scratch folders
    /// through
    /// the restore's own code, checks the tables' row counts against the backup's record, every file's SHA-256 and the
    /// operator's checks (Backup__DrillChecks), times the restore, removes the scratch copies and records the result
    /// in the drill history. Never touches anything live and never creates roles. Holds the operation lock. A failed
    /// check or a failed restore is a failed drill (in the result, not an exception).
    /// </summary>
    Task<Drills.DrillResult> DrillAsync(Drills.DrillRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default);
    /// <summary>Finishes or undoes an interrupted restore and removes leftovers of killed creates. Messages describe
    /// what was found.</summary>
    Task<IReadOnlyList<string>> RecoverAsync(CancellationToken cancellationToken = default);
}
