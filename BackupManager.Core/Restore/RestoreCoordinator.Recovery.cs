using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Restore;

internal sealed partial class RestoreCoordinator
{
    /// <summary>Finishes or undoes an interrupted restore; returns a sentence for the log and audit, or null if there
    /// was none.</summary>
    public async Task<string?> RecoverAsync()
    {
        var journal = RestoreJournal.Load(backupDirectory);
        if (journal is null) return null;
        switch (journal.State)
        {
            case RestoreJournalState.Preparing when journal.Drill:
                var drillFailure = await RollBackAsync(journal, swapped: false).ConfigureAwait(false);
                return $"A restore drill of {journal.Backup} started at {journal.StartedAt:u} was interrupted; "
                    + $"nothing live was touched, and "
                    + (drillFailure is null
                        ? "its scratch copies were removed."
                        : $"its scratch copies could not be removed yet ({drillFailure.Message}); BackupManager tries "
                        + $"again at its next start.");
            case RestoreJournalState.Preparing:
                var failure = await RollBackAsync(journal, swapped: false).ConfigureAwait(false);
                return $"A restore of {journal.Backup} requested by {journal.RequestedBy} at {journal.StartedAt:u} "
                    + $"was interrupted before it changed anything; the previous state is intact and "
                    + (failure is null
                        ? "its staging copies were removed."
                        : $"its staging copies could not be removed yet ({failure.Message}); BackupManager tries "
                        + $"again at its next start.");
            case RestoreJournalState.Committing:
                if (journal.DatabaseStaging is not null) await database!.SwapInAsync(journal.DatabaseStaging,
                    journal.DatabaseOld!, CancellationToken.None).ConfigureAwait(false);
                foreach (var folder in journal.Folders) FolderSwap.Forward(folder);
                journal = journal with { State = RestoreJournalState.Committed };
                journal.Save(backupDirectory);
                var (safety, warning) = await ArchiveParkedAndCleanUpAsync(journal).ConfigureAwait(false);
                return $"A restore of {journal.Backup} requested by {journal.RequestedBy} at {journal.StartedAt:u} "
                    + $"was interrupted while swapping; it was completed, so the database and files are both from "
                    + $"{journal.Backup}. "
                    + (warning ?? $"The safety backup of the previous state is "
                        + $"{safety ?? "not needed (nothing was replaced)"}.");
            default:
                var hadSafety = journal.SafetyBackup is not null;
                (safety, warning) = await ArchiveParkedAndCleanUpAsync(journal).ConfigureAwait(false);
                return warning ?? (hadSafety
                    ? $"A restore of {journal.Backup} had finished; its parked previous state was removed."
                    : $"A restore of {journal.Backup} had finished but was interrupted before the safety backup of "
                        + $"the previous state was written; it was written now ({safety ?? "nothing was replaced"}) "
                        + $"and the parked copies removed.");
        }
    }

    /// <summary>
    /// Archives the parked previous state (unless the journal already names its safety backup), then removes the
    /// parked copies and the journal. On failure nothing parked is removed and the journal stays, so the next start
    /// tries again; the returned warning says what happened and where the previous state is.
    /// </summary>
    private async Task<(string? Safety, string? Warning)> ArchiveParkedAndCleanUpAsync(RestoreJournal journal)
    {
        var parked = ParkedState.From(journal);
        if (journal.SafetyBackup is null)
        {
            try
            {
                if (parked.Database is not null && !await database!.AllowConnectionsIfExistsAsync(parked.Database,
                    CancellationToken.None).ConfigureAwait(false))
                    parked = parked with { Database = null };
                if (parked.Database is not null || parked.Folders.Count > 0)
                    journal = journal with { SafetyBackup = await archiveParked(parked,
                        CancellationToken.None).ConfigureAwait(false) };
                journal.Save(backupDirectory);
            }
            catch (Exception e)
            {
                // Whatever went wrong, the restore itself stands and the previous state is still whole where it is
                // parked.
                logger.LogError(e, "The safety backup of the state before the restore of {Backup} could not be written",
                    journal.Backup);
                return (null, $"The restore of {journal.Backup} is complete, but the safety backup of the previous "
                    + $"state could not be written ({e.Message}). "
                    + $"The previous state is kept whole as {parked.Describe()}; BackupManager tries again at its "
                        + $"next start and before the next restore.");
            }
        }
        try
        {
            await CleanUpAsync(journal).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The restore and its safety backup both stand; the journal stays, so the next start removes what is left.
            logger.LogError(e, "Removing the parked copies after the restore of {Backup} failed", journal.Backup);
            return (journal.SafetyBackup,
                $"The restore of {journal.Backup} and its safety backup {journal.SafetyBackup} are complete, but the "
                + $"parked copies of the previous state could not be removed ({e.Message}); BackupManager removes "
                + $"them at its next start.");
        }
        return (journal.SafetyBackup, null);
    }

    /// <summary>Undoes a restore from its journal; returns null when everything was put back, else what failed (the
    /// journal then stays for the next start).</summary>
    private async Task<Exception?> RollBackAsync(RestoreJournal journal, bool swapped)
    {
        try
        {
            // Nothing restored is deleted until every swap is undone: if one fails, the journal (still "committing")
            // finds every staged copy at the next start and completes the restore instead, so both stay in step.
            if (swapped)
            {
                if (journal.DatabaseStaging is not null) await database!.SwapBackAsync(journal.DatabaseStaging,
                    journal.DatabaseOld!, CancellationToken.None).ConfigureAwait(false);
                foreach (var folder in journal.Folders) FolderSwap.Back(folder);
            }
            foreach (var folder in journal.Folders) FolderSwap.DeleteIfExists(folder.Staging);
            if (journal.DatabaseStaging is not null) await database!.DropIfExistsAsync(journal.DatabaseStaging,
                CancellationToken.None).ConfigureAwait(false);
            RestoreJournal.Delete(backupDirectory);
            return null;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Rolling back the restore of {Backup} failed; it will be retried at the next start",
                journal.Backup);
            return e;
        }
    }

    /// <summary>"Now: …": which of the journal's databases and folders exist, for a message after a failed
    /// rollback.</summary>
    private async Task<string> DescribeWhereThingsAreAsync(RestoreJournal journal)
    {
        var parts = new List<string>();
        if (journal.DatabaseStaging is not null)
        {
            string[] names = [database!.DatabaseName, journal.DatabaseStaging, journal.DatabaseOld!];
            try
            {
                var existing = await database.WhichExistAsync(names, CancellationToken.None).ConfigureAwait(false);
                parts.Add($"databases on the server: "
                    + $"{string.Join(", ",
                        names.Where(existing.Contains).DefaultIfEmpty("none of " + string.Join(", ", names)))}");
            }
            catch (Exception e)
            {
                parts.Add($"the database server could not be asked which databases exist ({e.Message})");
            }
        }
        foreach (var folder in journal.Folders)
        {
            string[] paths = [folder.Target, folder.Staging, folder.Old];
            parts.Add($"folders: "
                + $"{string.Join(", ",
                    paths.Where(Directory.Exists).DefaultIfEmpty("none of " + string.Join(", ", paths)))}");
        }
        return $"Now: {string.Join("; ", parts)}.";
    }

    private async Task CleanUpAsync(RestoreJournal journal)
    {
        // Dropping a database waits for a checkpoint; delete the old folders meanwhile.
        var dropDatabase = journal.DatabaseOld is null
            ? Task.CompletedTask : database!.DropIfExistsAsync(journal.DatabaseOld, CancellationToken.None);
        foreach (var folder in journal.Folders) FolderSwap.DeleteIfExists(folder.Old);
        await dropDatabase.ConfigureAwait(false);
        RestoreJournal.Delete(backupDirectory);
    }
}
