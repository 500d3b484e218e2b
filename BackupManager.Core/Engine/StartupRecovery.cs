using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.IO;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// What an interrupted run left behind: a restore to finish or undo from its journal (its parked state archived as
/// the safety backup, then dropped), incomplete creates, unsigned backups made before signing, files readable by other
/// users. Restores and drills finish an earlier restore here before they start a new journal.
/// </summary>
internal sealed class StartupRecovery(IBackupStore store, IDatabaseRestorer? restorer, BackupCreator creator,
    ArchiveSigner? signer, ILogger logger, (Pitr.PitrLayout Layout, ExternalProcessRunner Runner)? pitr = null)
{
    /// <summary>The folder's own upkeep, which needs no lock: adopting unsigned backups once, tightening modes.
    /// </summary>
    public List<string> TidyFolder()
    {
        var messages = new List<string>();
        if (signer is { IsNew: true } && AdoptUnsignedBackups() is > 0 and var adopted)
        {
            var message = $"Signed {adopted} backup(s) that were already in {store.Directory} as this installation's "
                + $"own (they were made before archives were signed; uploads stay foreign).";
            messages.Add(message);
        }
        var tightened = PrivateFiles.Tighten(store.Directory);
        if (tightened > 0)
        {
            var message = $"Made {tightened} file(s) and folder(s) in {store.Directory} private to BackupManager's "
                + $"user (0600 / 0700): other local users could read them. "
                + "Run the service with UMask=0077 so nothing is created readable again.";
            messages.Add(message);
        }
        return messages;
    }

    /// <summary>Finishes or undoes an interrupted restore and removes leftovers of killed creates.</summary>
    public async Task<IReadOnlyList<string>> RecoverAsync(BackupOperationLock.Lease lease)
    {
        lease.EnsureHeld();
        var messages = new List<string>();
        var recovered = await NewCoordinator(lease).RecoverAsync().ConfigureAwait(false);
        if (recovered is not null)
        {
            messages.Add(recovered);
        }
        var removed = store.RemoveLeftovers();
        if (removed > 0)
        {
            var message = $"Removed {removed} incomplete backup file(s) left by an interrupted create.";
            messages.Add(message);
        }
        if (pitr is not { } found) return messages;
        var (layout, runner) = found;
        // Point-in-time restores leave a temporary server (a daemon that outlives a kill -9) and decrypted copies.
        if (Pitr.RecoveryInstance.RemoveStaging(layout, runner) is > 0 and var staged)
            messages.Add($"Removed the {staged} staging folder(s) of an interrupted restore from a destination "
                + "(decrypted copies of the database and WAL); the clinic's database was not changed by it.");
        if (Pitr.RecoveryInstance.RemoveLeftovers(layout, runner) is > 0 and var copies)
            messages.Add("Stopped the temporary PostgreSQL server of an interrupted point-in-time restore and "
                + $"removed its {copies} copy(ies) of the database; the clinic's database was not changed by it.");
        return messages;
    }

    /// <summary>A new restore would start a new journal, so an earlier one whose previous state is still parked is
    /// finished first.</summary>
    public async Task FinishPendingRestoreAsync(BackupOperationLock.Lease lease)
    {
        lease.EnsureHeld();
        if (RestoreJournal.Load(store.Directory) is null) return;
        var message = await NewCoordinator(lease).RecoverAsync().ConfigureAwait(false);
        if (message is not null) logger.LogWarning("{Message}", message);
        if (RestoreJournal.Load(store.Directory) is not null)
            throw new BackupException(BackupErrorKind.Environment,
                $"An earlier restore is not finished, so no new restore was started: {message}");
    }

    /// <summary>A restore transaction whose safety backup is written under <paramref name="lease"/>.</summary>
    public RestoreCoordinator NewCoordinator(BackupOperationLock.Lease lease) => new(store.Directory, restorer,
        (parked, cancellationToken) => ArchiveParkedStateAsync(parked, lease, cancellationToken), logger);

    /// <summary>
    /// When the signing key is new, the backups already in the folder (except uploads) were made here: record them once
    /// as this installation's own, beside them (a committed archive is never rewritten in place).
    /// </summary>
    private int AdoptUnsignedBackups()
    {
        var unsigned = store.List().Where(b => b.Foreign && b.Readable && b.Trigger != BackupTrigger.Upload)
            .Select(b => (b.Filename, Summary: ArchiveSummary.ReadFromFile(Path.Combine(store.Directory, b.Filename))))
            .Where(b => b.Summary is { Signature: null, DirectorySha256.Length: > 0 })
            .Select(b => (b.Filename, b.Summary!)).ToList();
        if (unsigned.Count > 0) signer!.Adopt(unsigned);
        return unsigned.Count;
    }

    /// <summary>The pre-restore safety backup, made from the previous state a restore parked (which holds every write
    /// up to the swap).</summary>
    private async Task<string> ArchiveParkedStateAsync(ParkedState parked, BackupOperationLock.Lease lease,
        CancellationToken cancellationToken)
    {
        // A crash between committing the safety backup and recording it in the journal must not make a second one.
        var existing = store.List().FirstOrDefault(b => b.Trigger == BackupTrigger.PreRestore
            && b.CreatedAt == parked.ParkedAt);
        if (existing is not null) return existing.Filename;
        var scope = parked.Folders.Count == 0 ? BackupScope.DatabaseOnly : parked.Database is null
            ? BackupScope.FilesOnly : BackupScope.Full;
        var made = await creator.CreateAsync(
            new CreateBackupRequest(scope, BackupTrigger.PreRestore, parked.RequestedBy), lease, null,
            cancellationToken, parked).ConfigureAwait(false);
        return made.Filename;
    }
}
