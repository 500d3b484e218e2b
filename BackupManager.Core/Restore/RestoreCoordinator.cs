using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.IO;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Restore;

/// <summary>
/// Runs a restore as a small transaction over the database and the folders:
/// 1. journal "preparing"; restore the dump into a staging database and, at the same time, extract each folder into a
///    staging folder beside it, checking every byte against the manifest as it streams; any failure drops the staging
///    copies and stops here, with nothing live changed;
/// 2. journal "committing"; swap the database, then each folder, by renames that park the live copies under old
///    names; a failure swaps everything back;
/// 3. journal "committed"; the restored state is live. The parked previous state — which holds every write made up to
///    the swap — is archived as the safety backup, and only then removed; the journal is deleted last.
/// <see cref="RecoverAsync"/> finishes or undoes a restore that a crash interrupted, from the journal alone.
/// </summary>
internal sealed partial class RestoreCoordinator(string backupDirectory, IDatabaseRestorer? database,
    Func<ParkedState, CancellationToken, Task<string>> archiveParked, ILogger logger)
{
    /// <summary>
    /// Restores <paramref name="plan"/> from <paramref name="archive"/>, which it disposes once the staging copies are
    /// complete, so the manifest is not held while the safety backup is written. The folders are extracted by a second
    /// reader of it (<see cref="BackupArchiveReader.OpenSibling"/>) while the database is restored.
    /// <paramref name="swapStarted"/> is set once live state may have changed (until then a failure leaves everything
    /// as it was). If the safety backup cannot be written after the swap, the restore still stands, the previous state
    /// stays parked for the next start to archive, and the result says so in its warnings. <paramref name="verified"/>
    /// runs once every entry has passed, before anything is swapped; if it fails, the staging copies are dropped.
    /// </summary>
    public async Task<RestoreResult> RunAsync(BackupArchiveReader archive, RestorePlan plan,
        string requestedBy, IProgress<BackupProgress>? progress, StrongBox<bool> swapStarted,
            CancellationToken cancellationToken, Action? verified = null)
    {
        var journal = NewJournal(archive.Filename, plan, requestedBy, drill: false);
        journal.Save(backupDirectory);

        var restoreWarnings = new List<string>();
        try
        {
            await PrepareAsync(archive, plan, journal, restoreWarnings, progress,
                cancellationToken).ConfigureAwait(false);
            verified?.Invoke();
        }
        catch
        {
            await RollBackAsync(journal, swapped: false).ConfigureAwait(false);
            throw;
        }
        var backup = archive.Filename;
        archive.Dispose();

        journal = journal with { State = RestoreJournalState.Committing, ParkedAt = DateTimeOffset.UtcNow };
        journal.Save(backupDirectory);
        swapStarted.Value = true;
        progress?.Report(new BackupProgress("restore", "Swapping in the restored copies"));
        FaultInjection.PauseAt(FaultInjection.Committing);
        try
        {
            if (plan.Database) await database!.SwapInAsync(journal.DatabaseStaging!, journal.DatabaseOld!,
                CancellationToken.None).ConfigureAwait(false);
            FaultInjection.PauseAt(FaultInjection.DatabaseSwapped);
            foreach (var folder in journal.Folders) FolderSwap.Forward(folder);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Swapping in the restore of {Backup} failed; swapping the old copies back", backup);
            var cause = e is BackupException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            var rollbackFailure = await RollBackAsync(journal, swapped: true).ConfigureAwait(false);
            if (rollbackFailure is null)
                throw new BackupException(e is BackupException be ? be.Kind : BackupErrorKind.Environment,
                    $"The restore of {backup} could not swap in the restored copies ({cause}). Everything was put "
                        + $"back: the live database and folders are as they were before the restore, and the staging "
                        + $"copies were removed.", e);
            throw new BackupException(BackupErrorKind.Environment,
                $"The restore of {backup} could not swap in the restored copies ({cause}), and putting the previous "
                    + $"state back failed too ({rollbackFailure.Message}). "
                + await DescribeWhereThingsAreAsync(journal).ConfigureAwait(false)
                + $" The journal {RestoreJournal.PathIn(backupDirectory)} records every name: BackupManager completes "
                    + $"the restore from it at its next start or app: command. Start no other restore until then.", e);
        }

        journal = journal with { State = RestoreJournalState.Committed };
        journal.Save(backupDirectory);
        FaultInjection.PauseAt(FaultInjection.Committed);
        progress?.Report(new BackupProgress("restore",
            "Restored; writing the safety backup of the previous state from its parked copy"));
        PhaseMemory.Release();
        var (safety, warning) = await ArchiveParkedAndCleanUpAsync(journal).ConfigureAwait(false);
        return new RestoreResult(backup, safety, plan.Database, plan.Folders.Select(f => f.Target.FullPath).ToList(),
            [.. restoreWarnings, .. (warning is null ? [] : new[] { warning })]);
    }

    /// <summary>
    /// Phase 1 of a restore, shared by the drill: the dump into the staging database and each folder into its staging
    /// folder at the same time, checking every byte as it streams; then every entry the plan does not put back.
    /// </summary>
    private async Task PrepareAsync(BackupArchiveReader archive, RestorePlan plan, RestoreJournal journal,
        List<string> warnings, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        RestoreSpaceCheck.Ensure(archive.Filename, archive.Manifest, plan);
        var database = plan.Database ? PrepareDatabaseAsync(archive, journal.DatabaseStaging!, plan, warnings, progress,
            cancellationToken) : Task.CompletedTask;
        var folders = plan.Folders.Count == 0 ? Task.CompletedTask : Task.Run(async () =>
        {
            // A second reader (its own file position, the same checked manifest) when the dump is read meanwhile.
            using var second = plan.Database ? archive.OpenSibling() : null;
            for (var i = 0; i < plan.Folders.Count; i++)
                await ExtractFolderAsync(second ?? archive, plan.Folders[i].RootName, journal.Folders[i], plan.Foreign,
                    progress, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
        await TaskGroup.WhenAllAsync(database, folders).ConfigureAwait(false);
        // The entries this restore does not put back (db/roles.sql, a part the scope leaves out, folder entries, whose
        // stored bytes extraction never reads) are checked as well: nothing is swapped in from an archive with damage
        // anywhere, and every entry is checked as archive.VerifyAsync checks it.
        await archive.VerifyAsync(null, cancellationToken,
            entry => entry.IsDirectory || !PutsBack(plan, archive.Manifest, entry)).ConfigureAwait(false);
    }

    /// <summary>
    /// A restore drill: phase 1 of a real restore into scratch copies (a database and a folder beside each live one,
    /// journaled as a drill, so a crash leaves them for the next start to remove), timed; then
    /// <paramref name="check"/> runs against the scratch copies; then they are removed, whatever happened. Nothing live
    /// is touched and no role is created. Returns the restore's duration and warnings, and the failed checks.
    /// </summary>
    public async Task<(TimeSpan Restore, IReadOnlyList<string> Warnings,
        IReadOnlyList<string> Failures)> RunDrillAsync(BackupArchiveReader archive, RestorePlan plan,
        string requestedBy,
        Func<string?, IReadOnlyList<(string RootName, string Folder)>, CancellationToken,
            Task<IReadOnlyList<string>>> check,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var journal = NewJournal(archive.Filename, plan, requestedBy, drill: true);
        journal.Save(backupDirectory);
        var warnings = new List<string>();
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await PrepareAsync(archive, plan, journal, warnings, progress,
                cancellationToken).ConfigureAwait(false);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            progress?.Report(new BackupProgress("drill", "Checking the restored copies"));
            FaultInjection.PauseAt(FaultInjection.DrillChecking);
            var failures = await check(journal.DatabaseStaging,
                plan.Folders.Select((f, i) => (f.RootName, journal.Folders[i].Staging)).ToList(),
                cancellationToken).ConfigureAwait(false);
            return (took, warnings, failures);
        }
        finally
        {
            progress?.Report(new BackupProgress("drill", "Removing the scratch copies"));
            if (await RollBackAsync(journal, swapped: false).ConfigureAwait(false) is { } failure)
                logger.LogError(failure,
                    "The scratch copies of the drill of {Backup} could not all be removed; the next start removes them",
                    journal.Backup);
        }
    }

    private async Task PrepareDatabaseAsync(BackupArchiveReader archive, string stagingName, RestorePlan plan,
        List<string> warnings, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        var recorded = archive.Manifest.Database!;
        var dumpEntry = archive.Manifest.Entries.Single(e => e.Path == recorded.Entry);
        progress?.Report(new BackupProgress("restore", "Restoring the database into a staging copy"));
        warnings.AddRange(await database!.PrepareAsync(stagingName, recorded, plan.Foreign, async (stdin, token) =>
        {
            await using var source = archive.OpenVerified(dumpEntry);
            await source.CopyToAsync(stdin, BackupArchiveWriter.BufferSize, token).ConfigureAwait(false);
        }, cancellationToken, createMissingRoles: !plan.Drill).ConfigureAwait(false));
    }

    private static bool PutsBack(RestorePlan plan, BackupManifest manifest, ManifestEntry entry) =>
        (plan.Database && entry.Path == manifest.Database?.Entry)
        || plan.Folders.Any(f => entry.Path.StartsWith(ArchivePath.FilesPrefix + f.RootName + "/",
            StringComparison.Ordinal));

    private static async Task ExtractFolderAsync(BackupArchiveReader archive, string rootName, FolderSwapPlan swap,
        bool foreign, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        PrivateFiles.CreateFolder(swap.Staging);
        // Archives before format 2 carry no folder entries: the staging folder takes the live folder's mode.
        if (swap.TargetExisted && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(swap.Staging, File.GetUnixFileMode(swap.Target));
        await RootExtractor.ExtractAsync(archive, rootName, swap.Staging, foreign, (entry, share) =>
            progress?.Report(new BackupProgress("restore", $"Extracting {rootName}", share, entry.Path)),
            cancellationToken).ConfigureAwait(false);
        // One flush of the whole file system instead of an fsync per file.
        NativeFileSystem.SyncFileSystem(swap.Staging);
    }

    /// <summary>The journal of a new restore (staging and old names) or drill (scratch names only), in its preparing
    /// state.</summary>
    private RestoreJournal NewJournal(string backup, RestorePlan plan, string requestedBy, bool drill)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var staging = drill ? "drill" : "staging";
        return new RestoreJournal
        {
            Id = id,
            Backup = backup,
            RequestedBy = requestedBy,
            StartedAt = DateTimeOffset.UtcNow,
            State = RestoreJournalState.Preparing,
            Drill = drill,
            DatabaseStaging = plan.Database ? StagingDatabaseName(database!.DatabaseName, staging, id) : null,
            DatabaseOld = plan.Database && !drill ? StagingDatabaseName(database!.DatabaseName, "old", id) : null,
            Folders = plan.Folders.Select(f => new FolderSwapPlan(
                f.Target.FullPath,
                SiblingPath(f.Target.FullPath, staging, id),
                SiblingPath(f.Target.FullPath, drill ? "drill-unused" : "old", id),
                !drill && Directory.Exists(f.Target.FullPath))).ToList(),
        };
    }

    private static string StagingDatabaseName(string database, string role, string id) =>
        $"{(database.Length > 40 ? database[..40] : database)}__bm_{role}_{id}";

    private static string SiblingPath(string target, string role, string id) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.bm-{role}-{id}");
}
