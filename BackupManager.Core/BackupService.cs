using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Drills;
using BackupManager.Core.Engine;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Retention;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core;

/// <summary>
/// The backup engine. See <see cref="IBackupService"/> for the contract every front end relies on. A thin facade: it
/// takes the operation lock once per operation (or uses the lease the caller hands on) and passes that lease to the
/// worker that does the job: <see cref="BackupCreator"/>, <see cref="BackupRestorer"/>, <see cref="DrillRunner"/>,
/// <see cref="BackupIntake"/> (upload and exact copy) and <see cref="StartupRecovery"/>.
/// </summary>
public sealed class BackupService : IBackupService
{
    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly BackupOperationLock _lock;
    private readonly TimeProvider _time;
    private readonly ILogger<BackupService> _logger;
    private readonly BackupFolderChanges _changes;
    private readonly BackupCreator _creator;
    private readonly BackupRestorer _restorer;
    private readonly DrillRunner _drills;
    private readonly BackupIntake _intake;
    private readonly StartupRecovery _recovery;

    public BackupService(IOptions<BackupOptions> options, IBackupStore store, BackupOperationLock operationLock,
        TimeProvider time,
        ILogger<BackupService> logger, IDatabaseDumper? dumper = null, IDatabaseRestorer? restorer = null,
            ArchiveSigner? signer = null, PostgresTarget? target = null, BackupCommitted? committed = null,
            ExternalProcessRunner? runner = null, Pitr.PitrDrill? pitrDrill = null)
    {
        _options = options.Value;
        _store = store;
        _lock = operationLock;
        _time = time;
        _logger = logger;
        var roots = _options.Paths.Select(FileRoot.From).ToList();
        // The workers log under this facade's category, as the engine always has.
        _changes = new BackupFolderChanges(_options, store, time, logger, committed);
        _creator = new BackupCreator(_options, store, time, logger, dumper, roots, signer, _changes);
        _recovery = new StartupRecovery(store, restorer, _creator, signer, logger,
            runner is null ? null : (new Pitr.PitrLayout(_options.Directory), runner));
        _restorer = new BackupRestorer(store, restorer is not null, roots, signer, _recovery, _changes, logger);
        _drills = new DrillRunner(store, time, restorer is not null, roots, signer, new DrillQueries(target, _options),
            _recovery, _changes, logger, pitrDrill);
        _intake = new BackupIntake(store, time, roots, _changes, logger);
    }

    /// <summary>Runs on each new archive between sealing and reading it back (tests play a failing disk here).
    /// </summary>
    internal Action<string>? BeforeReadBack { set => _creator.BeforeReadBack = value; }

    public async Task<BackupInfo> CreateAsync(CreateBackupRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var taken = _lock.AcquireUnless(request.Lease, "create", request.RequestedBy);
        return await _creator.CreateAsync(request, taken ?? request.Lease!, progress,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<RestoreResult> RestoreAsync(RestoreBackupRequest request,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var taken = _lock.AcquireUnless(request.Lease, "restore", request.RequestedBy);
        return await _restorer.RestoreAsync(request, taken ?? request.Lease!, progress,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<DrillResult> DrillAsync(DrillRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var taken = _lock.AcquireUnless(request.Lease, "drill", request.RequestedBy);
        return await _drills.RunAsync(request, taken ?? request.Lease!, progress,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<BackupInfo> ImportAsync(Stream content, long maxBytes, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        using var upload = _intake.NewUpload();
        try
        {
            // Received before the lock is taken: an upload may take minutes, its verify and commit need the lock.
            await _intake.ReceiveAsync(upload, content, maxBytes, cancellationToken).ConfigureAwait(false);
            using var lease = _lock.Acquire("upload", requestedBy);
            return await _intake.TakeInAsync(upload, requestedBy, lease, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw _intake.NotStored(upload, e);
        }
    }

    public async Task<BackupInfo> AddExactCopyAsync(string filename, string rebuiltFile, string requestedBy,
        BackupOperationLock.Lease? lease = null, CancellationToken cancellationToken = default)
    {
        using var copy = _intake.TakeOver(rebuiltFile, filename);
        try
        {
            using var taken = _lock.AcquireUnless(lease, "fetch", requestedBy);
            return await _intake.TakeInAsync(copy, requestedBy, taken ?? lease!,
                cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw _intake.NotStored(copy, e);
        }
    }

    public async Task<RestoreResult> RestoreExactCopyAsync(string rebuiltFile, RestoreBackupRequest request,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var copy = _intake.TakeOver(rebuiltFile, request.Filename);
        using var taken = _lock.AcquireUnless(request.Lease, "restore", request.RequestedBy);
        var lease = taken ?? request.Lease!;
        DateTimeOffset? createdAt;
        try { createdAt = _intake.CheckExactCopy(copy, lease); }
        catch (IOException e) { throw _intake.NotStored(copy, e); }
        if (createdAt is null) return await _restorer.RestoreAsync(request, lease, progress, cancellationToken)
            .ConfigureAwait(false);
        if (!request.AllowForeign && _restorer.IsForeign(copy.Path, request.Filename))
        {
            // Refused as a restore from the folder is, and the copy kept, verified in full, as a plain fetch keeps it.
            await _intake.TakeInAsync(copy, request.RequestedBy, lease, cancellationToken).ConfigureAwait(false);
            throw ArchiveSigner.RefusedAsForeign(request.Filename);
        }
        return await _restorer.RestoreAsync(request, lease, progress, cancellationToken, copy,
            () => _intake.CommitVerified(copy, createdAt.Value, request.RequestedBy)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var messages = _recovery.TidyFolder();
        using var lease = _lock.TryAcquire("recover", "start-up");
        if (lease is null) return messages; // another process is working and owns its own leftovers
        messages.AddRange(await _recovery.RecoverAsync(lease).ConfigureAwait(false));
        return messages;
    }

    public Task<IReadOnlyList<BackupInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_store.List());

    public string GetArchivePath(string filename) => _store.ResolveExisting(filename);

    public async Task<VerificationReport> VerifyAsync(string filename, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var archive = BackupArchiveReader.Open(_store.ResolveExisting(filename));
        return await archive.VerifyAsync(progress, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteAsync(string filename, string requestedBy, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.Acquire("delete", requestedBy);
        _store.Delete(filename);
        _logger.LogInformation("Deleted backup {Backup} at the request of {User}", filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task SetPinnedAsync(string filename, bool pinned, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        _store.ResolveExisting(filename);
        _store.SetPinned(filename, pinned);
        _logger.LogInformation("{Action} backup {Backup} at the request of {User}", pinned ? "Pinned" : "Unpinned",
            filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RetentionDecision>> PruneAsync(bool dryRun, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        if (dryRun) return Task.FromResult(RetentionPolicy.From(_options).Evaluate(_store.List(), _time.GetUtcNow()));
        using var lease = _lock.Acquire("prune", requestedBy);
        return Task.FromResult(_changes.ApplyRetention(null));
    }

    public Task<BackupFolderStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var list = _store.List();
        var now = _time.GetUtcNow();
        // Freshness counts only backups this installation made: an upload (or a copy dated ahead) proves nothing about
        // today.
        var newest = list.FirstOrDefault(b => b.Readable && !b.Foreign && b.Trigger != BackupTrigger.Upload
            && b.CreatedAt <= now + BackupIntake.MaxClockSkew);
        long free;
        try { free = new DriveInfo(_store.Directory).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { free = -1; }
        return Task.FromResult(new BackupFolderStatus(list.Count, _options.MaxBackups, list.Sum(b => b.Size), free,
            newest,
            DescribeUnfinishedRestore()));
    }

    /// <summary>A sentence for the health check when a restore journal outlived its operation; null while a restore is
    /// running or none is left.</summary>
    private string? DescribeUnfinishedRestore()
    {
        RestoreJournal? journal;
        try { journal = RestoreJournal.Load(_store.Directory); }
        catch (BackupException e) { return e.Message; }
        if (journal is null || _lock.SeemsBusy()) return null;
        if (journal.State != RestoreJournalState.Committed)
            return $"A restore of {journal.Backup} was interrupted. Restart BackupManager or run any app: command to "
                + $"finish or undo it.";
        var parked = ParkedState.From(journal).Describe();
        if (journal.SafetyBackup is not null)
            return $"The restore of {journal.Backup} and its safety backup {journal.SafetyBackup} are complete, but "
                + $"{parked} (the replaced state) are still there. Restart BackupManager or run any app: command to "
                + $"remove them.";
        return $"The restore of {journal.Backup} is complete, but the safety backup of the state it replaced is not "
            + $"written yet; that state is kept as {parked}. "
            + "Free space in the backup folder if it is full, then restart BackupManager or run any app: command to "
                + "write it.";
    }
}
