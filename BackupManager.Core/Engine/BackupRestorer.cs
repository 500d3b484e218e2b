using BackupManager.Core.Archive;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// The restore path: an earlier restore finished first, the archive checked and refused when foreign (unless
/// allowed), then <see cref="RestoreCoordinator"/> stages, swaps and writes the safety backup. Runs only under a lease
/// the caller holds.
/// </summary>
internal sealed class BackupRestorer(IBackupStore store, bool canRestoreDatabase, IReadOnlyList<FileRoot> roots,
    ArchiveSigner? signer, StartupRecovery recovery, BackupFolderChanges changes, ILogger logger)
{
    /// <summary>Restores <paramref name="request"/>'s backup from the folder, or from <paramref name="intake"/> (an
    /// exact copy not yet committed): <paramref name="verified"/> then runs once every entry passed, before the swap.
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(RestoreBackupRequest request, BackupOperationLock.Lease lease,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken, IntakeFile? intake = null,
        Action? verified = null)
    {
        lease.EnsureHeld();
        var path = intake?.Path ?? store.ResolveExisting(request.Filename);
        await recovery.FinishPendingRestoreAsync(lease).ConfigureAwait(false);
        // Opening checks every byte outside the entries; each entry's bytes are checked as they stream into the
        // staging copies, and nothing live is touched until all of them passed.
        progress?.Report(new BackupProgress("restore", "Verifying the backup"));
        using var archive = BackupArchiveReader.Open(path, request.Filename);
        var foreign = IsForeign(path, request.Filename);
        if (foreign && !request.AllowForeign) throw ArchiveSigner.RefusedAsForeign(request.Filename);
        var plan = RestorePlanner.Plan(archive.Manifest, request, canRestoreDatabase, roots) with { Foreign = foreign };

        progress?.Report(new BackupProgress("restore", "Restoring into staging copies"));
        var swapStarted = new System.Runtime.CompilerServices.StrongBox<bool>();
        RestoreResult result;
        try
        {
            result = await recovery.NewCoordinator(lease).RunAsync(archive, plan, request.RequestedBy, progress,
                swapStarted, cancellationToken, verified).ConfigureAwait(false);
        }
        catch (Exception e) when (!swapStarted.Value && e is BackupException or IOException)
        {
            if (e is BackupException { Kind: BackupErrorKind.Damaged }) throw;
            var kind = e is BackupException be ? be.Kind : BackupErrorKind.Environment;
            var detail = e is IOException io ? changes.DescribeIo(io) : e.Message;
            throw new BackupException(kind,
                $"The restore of {request.Filename} failed and nothing was changed: {detail}", e);
        }
        foreach (var warning in result.Warnings) logger.LogWarning("{Warning}", warning);
        logger.LogInformation(
            "Restored {Backup} (database: {Database}, folders: {Folders}) for {User}; safety backup {Safety}",
            request.Filename, result.RestoredDatabase, string.Join(", ", result.RestoredFolders), request.RequestedBy,
                result.SafetyBackup);
        return result;
    }

    /// <summary>Whether the archive at <paramref name="path"/> lacks this installation's signature.</summary>
    public bool IsForeign(string path, string filename) =>
        signer is not null && !signer.IsOwn(ArchiveSummary.ReadFromFile(path), filename);
}
