using System.Security.Cryptography;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Drills;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// Restore drills: the newest own backup (or the one named) restored into scratch copies through the restore's own
/// code, its row counts and operator checks run (<see cref="DrillQueries"/>), every file's SHA-256 compared, the result
/// recorded in the drill history; with point-in-time recovery on, also a recovery to the dump's snapshot
/// (<see cref="Pitr.PitrDrill"/>). Runs only under a lease the caller holds.
/// </summary>
internal sealed class DrillRunner(IBackupStore store, TimeProvider time, bool canRestoreDatabase,
    IReadOnlyList<FileRoot> roots, ArchiveSigner? signer, DrillQueries queries, StartupRecovery recovery,
    BackupFolderChanges changes, ILogger logger, Pitr.PitrDrill? pitr = null)
{
    public async Task<DrillResult> RunAsync(DrillRequest request, BackupOperationLock.Lease lease,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        lease.EnsureHeld();
        await recovery.FinishPendingRestoreAsync(lease).ConfigureAwait(false);
        var startedAt = time.GetUtcNow();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // The newest of the clinic's own backups: a safety backup is a replaced state, and a foreign one is not
        // drilled.
        var filename = request.Filename
            ?? store.List().Where(b => b.Readable && b.Trigger != BackupTrigger.PreRestore && !b.Foreign).Select(b =>
            b.Filename).FirstOrDefault()
            ?? throw new BackupException(BackupErrorKind.NotFound,
                "There is no backup to drill yet. Make one first (app:create-backup).");
        var path = store.ResolveExisting(filename);
        var result = new DrillResult { Filename = filename, StartedAt = startedAt, RequestedBy = request.RequestedBy,
            ArchiveBytes = new FileInfo(path).Length };
        try
        {
            progress?.Report(new BackupProgress("drill", $"Restoring {filename} into scratch copies"));
            using var archive = BackupArchiveReader.Open(path);
            // A drill runs the archive's SQL in a scratch database: only for this installation's own backups.
            if (signer is not null && !signer.IsOwn(ArchiveSummary.ReadFromFile(path), filename))
                throw new BackupException(BackupErrorKind.Refused,
                    $"{filename} was not made by this installation (foreign), so it is not drilled: a drill runs a "
                    + $"backup's SQL, and is meant for the clinic's own backups.");
            var plan = RestorePlanner.Plan(archive.Manifest,
                new RestoreBackupRequest(filename, BackupScope.Full, request.RequestedBy), canRestoreDatabase,
                roots) with { Drill = true };
            var manifest = archive.Manifest;
            var counts = (Tables: 0, Rows: 0L, Files: 0, Checks: 0);
            var (took, warnings, failures) = await recovery.NewCoordinator(lease).RunDrillAsync(archive,
                plan, request.RequestedBy,
                async (database, folders, token) =>
                {
                    var found = new List<string>();
                    if (database is not null)
                    {
                        var (tables, rows, checks) = await queries.CheckAsync(database, manifest, found,
                            token).ConfigureAwait(false);
                        counts = (tables, rows, 0, checks);
                    }
                    counts.Files = await CheckFilesAsync(manifest, folders, found, token).ConfigureAwait(false);
                    return found;
                }, progress, cancellationToken).ConfigureAwait(false);
            result = result with
            {
                RestoreDuration = took, Failures = failures, Warnings = warnings,
                TablesChecked = counts.Tables, RowsChecked = counts.Rows, FilesChecked = counts.Files,
                    OperatorChecks = counts.Checks,
            };
            if (pitr is not null && await pitr.CheckSnapshotAsync(manifest, cancellationToken)
                .ConfigureAwait(false) is { } atSnapshot)
                result = result with { PointInTime = atSnapshot.Summary,
                    Failures = [.. result.Failures, .. atSnapshot.Failures] };
        }
        catch (BackupException e) when (e.Kind is not (BackupErrorKind.Busy or BackupErrorKind.NotFound
            or BackupErrorKind.InvalidInput or BackupErrorKind.Cancelled))
        {
            result = result with { Failures = [$"The restore failed: {e.Message}"] };
        }
        catch (IOException e)
        {
            result = result with { Failures = [$"The restore failed: {changes.DescribeIo(e)}"] };
        }
        result = result with { TotalDuration = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
        new DrillHistory(store.Directory).Add(result);
        if (result.Passed)
            logger.LogInformation(
                "Restore drill of {Backup} passed: restored in {Seconds:0.0} s, {Tables} tables / {Rows} rows and "
                + "{Files} files checked",
                filename, result.RestoreDuration.TotalSeconds, result.TablesChecked, result.RowsChecked,
                    result.FilesChecked);
        else logger.LogWarning("Restore drill of {Backup} FAILED: {Failures}", filename,
            string.Join(" ", result.Failures));
        return result;
    }

    /// <summary>Every restored file's SHA-256, read back from the scratch folders, against the manifest.</summary>
    private static async Task<int> CheckFilesAsync(BackupManifest manifest,
        IReadOnlyList<(string RootName, string Folder)> folders, List<string> failures,
        CancellationToken cancellationToken)
    {
        var files = 0;
        foreach (var (rootName, folder) in folders)
        {
            var prefix = ArchivePath.FilesPrefix + rootName + "/";
            foreach (var entry in manifest.Entries.Where(e => e.Path.StartsWith(prefix,
                StringComparison.Ordinal) && !e.IsDirectory))
            {
                var restored = ArchivePath.ResolveInside(folder, ArchivePath.RelativeToRoot(entry.Path));
                files++;
                if (!File.Exists(restored)) { failures.Add($"{entry.Path} is missing after the restore."); continue; }
                await using var stream = new FileStream(restored, FileMode.Open, FileAccess.Read, FileShare.Read,
                    1 << 20, FileOptions.SequentialScan);
                var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream,
                    cancellationToken).ConfigureAwait(false));
                if (sha != entry.Sha256) failures.Add(
                    $"{entry.Path} differs after the restore (its SHA-256 is not the one recorded).");
            }
        }
        return files;
    }
}
