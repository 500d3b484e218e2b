using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Locking;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Turns a point in time into a normal verified archive (trigger point-in-time) that the existing restore then puts
/// in place: checks the time against the window and the WAL for gaps before anything changes, recovers a temporary
/// server from the right base backup to that time, and dumps the database from it through the engine's own create
/// (the same dump path, manifest, signature and read-back), with the files of the newest backup made at or before
/// the time. The temporary server and every copy are removed afterwards, also on failure or cancel.
/// </summary>
public sealed partial class PointInTimeRecovery(PitrSource source, PitrStatusReader status,
    ExternalProcessRunner runner,
    IBackupStore store, IBackupService backups, BackupOperationLock operationLock, TimeProvider time,
    ILoggerFactory loggers,
    ArchiveSigner? signer = null, BackupCommitted? committed = null, PostgresTarget? live = null)
{
    /// <summary>Checks that <paramref name="target"/> can be reached; returns the base backup it starts from. Throws an
    /// InvalidInput <see cref="BackupException"/> naming the window otherwise. Changes nothing.</summary>
    public async Task<BaseBackupRecord> CheckAsync(DateTimeOffset target, CancellationToken cancellationToken)
    {
        bool streaming;
        try { streaming = (await status.ReadSlotAsync(cancellationToken).ConfigureAwait(false)).Active; }
        catch (BackupException) { streaming = false; } // the server is down: the window ends at the newest WAL file
        return PitrWindow.Read(source.Layout, streaming, time.GetUtcNow()).Choose(target);
    }

    /// <summary>
    /// Restores the database (with <see cref="BackupScope.Full"/> also the files) to <paramref name="target"/>: makes
    /// the archive and hands it to the engine's restore (staged, swapped, safety backup) under one lease, so nothing
    /// runs between them (<paramref name="held"/>: the lease of a caller, a job, that holds it already). What every
    /// front end calls.
    /// </summary>
    public async Task<PointInTimeRestoreResult> RestoreAsync(DateTimeOffset target, BackupScope scope,
        string requestedBy, IProgress<BackupProgress>? progress, CancellationToken cancellationToken,
        BackupOperationLock.Lease? held = null)
    {
        using var own = operationLock.AcquireUnless(held, "restore", requestedBy);
        var lease = held ?? own!;
        var archive = await CreateArchiveAsync(target, scope, requestedBy, lease, progress, cancellationToken)
            .ConfigureAwait(false);
        var result = await backups.RestoreAsync(new RestoreBackupRequest(archive.Filename, scope, requestedBy,
            Lease: lease), progress, cancellationToken).ConfigureAwait(false);
        return new PointInTimeRestoreResult(archive, result);
    }

    /// <summary>
    /// Makes the archive for <paramref name="target"/> under <paramref name="lease"/> (the operation lock, held by the
    /// caller until its restore is done). <paramref name="scope"/> is Full or DatabaseOnly.
    /// </summary>
    public async Task<PointInTimeArchive> CreateArchiveAsync(DateTimeOffset target, BackupScope scope,
        string requestedBy, BackupOperationLock.Lease lease, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        var database = live ?? throw new BackupException(BackupErrorKind.InvalidInput,
            "No database is configured, so there is nothing to restore to a point in time.");
        if (scope == BackupScope.FilesOnly)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "Files have no point in time of their own: restore a regular backup with --only-files instead.");
        var chosen = await CheckAsync(target, cancellationToken).ConfigureAwait(false);
        var options = source.Options;
        var filesFrom = scope == BackupScope.DatabaseOnly || options.Paths.Count == 0 ? null
            : await FilesBackupAtAsync(target, cancellationToken).ConfigureAwait(false)
                ?? throw new BackupException(BackupErrorKind.InvalidInput,
                $"No backup with files was made at or before {target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, so the files "
                + "of that time are unknown. Restore the database only (--only-db); nothing was changed.");
        var work = source.Layout.NewTemp("files");
        try
        {
            progress?.Report(new BackupProgress("restore", $"Recovering the database from base backup {chosen.Name}"));
            await using var instance = RecoveryInstance.Prepare(source.Layout,
                PitrWindow.Read(source.Layout, false, time.GetUtcNow()), chosen, runner);
            var user = database.Username ?? "postgres";
            await instance.RecoverAsync(target, user, options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            Restore.FaultInjection.PauseAt(Restore.FaultInjection.PointInTimeRecovered);
            var roots = filesFrom is null ? [] : await PitrFilesExtractor.ExtractAsync(
                store.ResolveExisting(filesFrom.Filename), work, cancellationToken).ConfigureAwait(false);
            var recovered = new PostgresTarget(instance.ConnectionString(user, database.Database),
                "the temporary point-in-time server");
            var engineOptions = options.WithPaths(roots);
            var engine = new BackupService(Microsoft.Extensions.Options.Options.Create(engineOptions), store,
                operationLock, time, loggers.CreateLogger<BackupService>(),
                new PgDumpRunner(recovered, engineOptions, runner), signer: signer, committed: committed);
            var created = await engine.CreateAsync(new CreateBackupRequest(
                filesFrom is null ? BackupScope.DatabaseOnly : BackupScope.Full, BackupTrigger.PointInTime,
                requestedBy, BackupPriority.Normal, lease), progress, cancellationToken).ConfigureAwait(false);
            loggers.CreateLogger<PointInTimeRecovery>().LogInformation(
                "Point-in-time archive {Backup} made for {Target} from base backup {Base}, files from {Files}",
                created.Filename, target, chosen.Name, filesFrom?.Filename ?? "(none)");
            return new PointInTimeArchive(created.Filename, target, chosen.Name, filesFrom?.Filename);
        }
        finally
        {
            BaseBackup.TryDeleteFolder(work);
        }
    }
}
