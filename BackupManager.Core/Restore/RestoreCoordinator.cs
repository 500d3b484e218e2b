using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Storage;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Restore;

/// <summary>What to put back from a verified archive.</summary>
internal sealed record RestorePlan(bool Database, IReadOnlyList<(string RootName, FileRoot Target)> Folders);

/// <summary>
/// Runs a restore as a small transaction over the database and the folders:
/// 1. journal "preparing"; restore the dump into a staging database and, at the same time, extract each folder into a
///    staging folder beside it, checking every byte against the manifest as it streams; meanwhile the caller's safety
///    backup is made; any failure (or a failed safety backup) drops the staging copies and stops here;
/// 2. journal "committing"; swap the database, then each folder, by renames; a failure swaps everything back;
/// 3. journal "committed"; remove the old copies; delete the journal.
/// <see cref="RecoverAsync"/> finishes or undoes a restore that a crash interrupted, from the journal alone.
/// </summary>
internal sealed class RestoreCoordinator(string backupDirectory, IDatabaseRestorer? database, ILogger logger)
{
    /// <summary>
    /// Restores <paramref name="plan"/> from <paramref name="archive"/>. <paramref name="openAnother"/> opens a second
    /// reader of the same archive so the folders can be extracted while the database is restored.
    /// <paramref name="safetyBackup"/> must succeed before anything live is swapped. <paramref name="swapStarted"/> is
    /// set once live state may have changed (until then a failure leaves everything as it was).
    /// </summary>
    public async Task<RestoreResult> RunAsync(BackupArchiveReader archive, Func<BackupArchiveReader> openAnother, RestorePlan plan,
        Task<BackupInfo> safetyBackup, string requestedBy, IProgress<BackupProgress>? progress, StrongBox<bool> swapStarted, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var journal = new RestoreJournal
        {
            Id = id,
            Backup = archive.Filename,
            RequestedBy = requestedBy,
            StartedAt = DateTimeOffset.UtcNow,
            State = RestoreJournalState.Preparing,
            DatabaseStaging = plan.Database ? StagingDatabaseName(database!.DatabaseName, "staging", id) : null,
            DatabaseOld = plan.Database ? StagingDatabaseName(database!.DatabaseName, "old", id) : null,
            Folders = plan.Folders.Select(f => new FolderSwapPlan(
                f.Target.FullPath,
                SiblingPath(f.Target.FullPath, "staging", id),
                SiblingPath(f.Target.FullPath, "old", id),
                Directory.Exists(f.Target.FullPath))).ToList(),
        };
        journal.Save(backupDirectory);

        string safety;
        try
        {
            var database = plan.Database ? PrepareDatabaseAsync(archive, journal.DatabaseStaging!, progress, cancellationToken) : Task.CompletedTask;
            var folders = plan.Folders.Count == 0 ? Task.CompletedTask : Task.Run(async () =>
            {
                using var second = openAnother();
                for (var i = 0; i < plan.Folders.Count; i++)
                    await ExtractFolderAsync(second, plan.Folders[i].RootName, journal.Folders[i], progress, cancellationToken).ConfigureAwait(false);
            }, cancellationToken);
            await WhenAllOrFirstFailure(database, folders).ConfigureAwait(false);
            progress?.Report(new BackupProgress("restore", "Finishing the safety backup"));
            try
            {
                safety = (await safetyBackup.ConfigureAwait(false)).Filename;
            }
            catch (BackupException e)
            {
                throw new BackupException(e.Kind, $"The safety backup of the current state failed, so nothing was replaced: {e.Message}", e);
            }
        }
        catch
        {
            await RollBackAsync(journal, swapped: false).ConfigureAwait(false);
            throw;
        }

        journal = journal with { State = RestoreJournalState.Committing, SafetyBackup = safety };
        journal.Save(backupDirectory);
        swapStarted.Value = true;
        progress?.Report(new BackupProgress("restore", "Swapping in the restored copies"));
        try
        {
            if (plan.Database) await database!.SwapInAsync(journal.DatabaseStaging!, journal.DatabaseOld!, CancellationToken.None).ConfigureAwait(false);
            foreach (var folder in journal.Folders) FolderSwap.Forward(folder);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Swapping in the restore of {Backup} failed; swapping the old copies back", archive.Filename);
            await RollBackAsync(journal, swapped: true).ConfigureAwait(false);
            throw e as BackupException ?? new BackupException(BackupErrorKind.Environment,
                $"The restore of {archive.Filename} could not swap in the restored copies ({e.Message}); the previous database and files were put back.", e);
        }

        journal = journal with { State = RestoreJournalState.Committed };
        journal.Save(backupDirectory);
        await CleanUpAsync(journal).ConfigureAwait(false);
        return new RestoreResult(archive.Filename, safety, plan.Database, plan.Folders.Select(f => f.Target.FullPath).ToList(), []);
    }

    /// <summary>Finishes or undoes an interrupted restore; returns a sentence for the log and audit, or null if there was none.</summary>
    public async Task<string?> RecoverAsync()
    {
        var journal = RestoreJournal.Load(backupDirectory);
        if (journal is null) return null;
        switch (journal.State)
        {
            case RestoreJournalState.Preparing:
                await RollBackAsync(journal, swapped: false).ConfigureAwait(false);
                return $"A restore of {journal.Backup} requested by {journal.RequestedBy} at {journal.StartedAt:u} was interrupted before it changed anything; its staging copies were removed and the previous state is intact.";
            case RestoreJournalState.Committing:
                if (journal.DatabaseStaging is not null) await database!.SwapInAsync(journal.DatabaseStaging, journal.DatabaseOld!, CancellationToken.None).ConfigureAwait(false);
                foreach (var folder in journal.Folders) FolderSwap.Forward(folder);
                journal = journal with { State = RestoreJournalState.Committed };
                journal.Save(backupDirectory);
                await CleanUpAsync(journal).ConfigureAwait(false);
                return $"A restore of {journal.Backup} requested by {journal.RequestedBy} at {journal.StartedAt:u} was interrupted while swapping; it was completed, so the database and files are both from {journal.Backup}.";
            default:
                await CleanUpAsync(journal).ConfigureAwait(false);
                return $"A restore of {journal.Backup} had finished; its leftover old copies were removed.";
        }
    }

    private async Task PrepareDatabaseAsync(BackupArchiveReader archive, string stagingName, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var dumpEntry = archive.Manifest.Entries.Single(e => e.Path == archive.Manifest.Database!.Entry);
        progress?.Report(new BackupProgress("restore", "Restoring the database into a staging copy"));
        await database!.PrepareAsync(stagingName, async (stdin, token) =>
        {
            await using var source = archive.OpenVerified(dumpEntry);
            await source.CopyToAsync(stdin, BackupArchiveWriter.BufferSize, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for both; if one fails, reports that failure as soon as the other has stopped too.</summary>
    private static async Task WhenAllOrFirstFailure(Task first, Task second)
    {
        try { await Task.WhenAll(first, second).ConfigureAwait(false); }
        catch
        {
            var failure = new[] { first, second }.First(t => t.IsFaulted).Exception!.InnerException!;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task ExtractFolderAsync(BackupArchiveReader archive, string rootName, FolderSwapPlan swap, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var prefix = ArchivePath.FilesPrefix + rootName + "/";
        var entries = archive.Manifest.Entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Directory.CreateDirectory(swap.Staging);
        if (swap.TargetExisted && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(swap.Staging, File.GetUnixFileMode(swap.Target));
        long total = Math.Max(1, entries.Sum(e => e.Size)), done = 0;
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var destination = ArchivePath.ResolveInside(swap.Staging, ArchivePath.RelativeToRoot(entry.Path));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            await using (var source = archive.OpenVerified(entry))
            await using (var target = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                await source.CopyToAsync(target, BackupArchiveWriter.BufferSize, cancellationToken).ConfigureAwait(false);
            }
            if (entry.ModifiedAt is { } modified) File.SetLastWriteTimeUtc(destination, modified.UtcDateTime);
            done += entry.Size;
            progress?.Report(new BackupProgress("restore", $"Extracting {rootName}", (double)done / total, entry.Path));
        }
        // One flush of the whole file system instead of an fsync per file.
        NativeFileSystem.SyncFileSystem(swap.Staging);
    }

    private async Task RollBackAsync(RestoreJournal journal, bool swapped)
    {
        try
        {
            foreach (var folder in journal.Folders)
            {
                if (swapped) FolderSwap.Back(folder);
                else FolderSwap.DeleteIfExists(folder.Staging);
            }
            if (journal.DatabaseStaging is not null)
            {
                if (swapped) await database!.SwapBackAsync(journal.DatabaseStaging, journal.DatabaseOld!, CancellationToken.None).ConfigureAwait(false);
                await database!.DropIfExistsAsync(journal.DatabaseStaging, CancellationToken.None).ConfigureAwait(false);
            }
            RestoreJournal.Delete(backupDirectory);
        }
        catch (Exception e)
        {
            // The journal stays, so the next start tries again; the original failure is what the caller reports.
            logger.LogError(e, "Rolling back the restore of {Backup} failed; it will be retried at the next start", journal.Backup);
        }
    }

    private async Task CleanUpAsync(RestoreJournal journal)
    {
        // Dropping a database waits for a checkpoint; delete the old folders meanwhile.
        var dropDatabase = journal.DatabaseOld is null ? Task.CompletedTask : database!.DropIfExistsAsync(journal.DatabaseOld, CancellationToken.None);
        foreach (var folder in journal.Folders) FolderSwap.DeleteIfExists(folder.Old);
        await dropDatabase.ConfigureAwait(false);
        RestoreJournal.Delete(backupDirectory);
    }

    private static string StagingDatabaseName(string database, string role, string id) =>
        $"{(database.Length > 40 ? database[..40] : database)}__bm_{role}_{id}";

    private static string SiblingPath(string target, string role, string id) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.bm-{role}-{id}");
}
