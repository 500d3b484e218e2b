using BackupManager.Core.Archive;
using BackupManager.Core.Restore;
using BackupManager.Core.IO;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core;

public sealed partial class BackupService
{
    public async Task<IReadOnlyList<string>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var messages = new List<string>();
        if (_signer is { IsNew: true } && AdoptUnsignedBackups() is > 0 and var adopted)
        {
            var message = $"Signed {adopted} backup(s) that were already in {_store.Directory} as this installation's "
                + $"own (they were made before archives were signed; uploads stay foreign).";
            messages.Add(message);
        }
        var tightened = PrivateFiles.Tighten(_store.Directory);
        if (tightened > 0)
        {
            var message = $"Made {tightened} file(s) and folder(s) in {_store.Directory} private to BackupManager's "
                + $"user (0600 / 0700): other local users could read them. "
                + "Run the service with UMask=0077 so nothing is created readable again.";
            messages.Add(message);
        }
        using var lease = _lock.TryAcquire("recover", "start-up");
        if (lease is null) return messages; // another process is working and owns its own leftovers
        var recovered = await NewRestoreCoordinator().RecoverAsync().ConfigureAwait(false);
        if (recovered is not null)
        {
            messages.Add(recovered);
        }
        var removed = _store.RemoveLeftovers();
        if (removed > 0)
        {
            var message = $"Removed {removed} incomplete backup file(s) left by an interrupted create.";
            messages.Add(message);
        }
        return messages;
    }

    /// <summary>
    /// When the signing key is new, the backups already in the folder (except uploads) were made here: record them once
    /// as this installation's own, beside them (a committed archive is never rewritten in place).
    /// </summary>
    private int AdoptUnsignedBackups()
    {
        var unsigned = _store.List().Where(b => b.Foreign && b.Readable && b.Trigger != BackupTrigger.Upload)
            .Select(b => (b.Filename, Summary: ArchiveSummary.ReadFromFile(Path.Combine(_store.Directory, b.Filename))))
            .Where(b => b.Summary is { Signature: null, DirectorySha256.Length: > 0 })
            .Select(b => (b.Filename, b.Summary!)).ToList();
        if (unsigned.Count > 0) _signer!.Adopt(unsigned);
        return unsigned.Count;
    }

    private RestoreCoordinator NewRestoreCoordinator() => new(_store.Directory, _restorer, ArchiveParkedStateAsync,
        _logger);

    /// <summary>A new restore would start a new journal, so an earlier one whose previous state is still parked is
    /// finished first.</summary>
    private async Task FinishPendingRestoreAsync()
    {
        if (RestoreJournal.Load(_store.Directory) is null) return;
        var message = await NewRestoreCoordinator().RecoverAsync().ConfigureAwait(false);
        if (message is not null) _logger.LogWarning("{Message}", message);
        if (RestoreJournal.Load(_store.Directory) is not null)
            throw new BackupException(BackupErrorKind.Environment,
                $"An earlier restore is not finished, so no new restore was started: {message}");
    }

    /// <summary>The pre-restore safety backup, made from the previous state a restore parked (which holds every write
    /// up to the swap).</summary>
    private async Task<string> ArchiveParkedStateAsync(ParkedState parked, CancellationToken cancellationToken)
    {
        // A crash between committing the safety backup and recording it in the journal must not make a second one.
        var existing = _store.List().FirstOrDefault(b => b.Trigger == BackupTrigger.PreRestore
            && b.CreatedAt == parked.ParkedAt);
        if (existing is not null) return existing.Filename;
        var scope = parked.Folders.Count == 0 ? BackupScope.DatabaseOnly : parked.Database is null
            ? BackupScope.FilesOnly : BackupScope.Full;
        var made = await CreateLockedAsync(new CreateBackupRequest(scope, BackupTrigger.PreRestore, parked.RequestedBy),
            null, cancellationToken, parked).ConfigureAwait(false);
        await VerifyThenApplyRetentionAsync(made.Filename, null, cancellationToken).ConfigureAwait(false);
        return made.Filename;
    }
}
