using System.Security.Cryptography;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Drills;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BackupManager.Core;

public sealed partial class BackupService
{
    public async Task<DrillResult> DrillAsync(DrillRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var lease = _lock.AcquireUnless(request.Lease, "drill", request.RequestedBy);
        await FinishPendingRestoreAsync().ConfigureAwait(false);
        var startedAt = _time.GetUtcNow();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // The newest of the clinic's own backups: a safety backup is a replaced state, and a foreign one is not
        // drilled.
        var filename = request.Filename
            ?? _store.List().Where(b => b.Readable && b.Trigger != BackupTrigger.PreRestore && !b.Foreign).Select(b =>
            b.Filename).FirstOrDefault()
            ?? throw new BackupException(BackupErrorKind.NotFound,
                "There is no backup to drill yet. Make one first (app:create-backup).");
        var path = _store.ResolveExisting(filename);
        var result = new DrillResult { Filename = filename, StartedAt = startedAt, RequestedBy = request.RequestedBy,
            ArchiveBytes = new FileInfo(path).Length };
        try
        {
            progress?.Report(new BackupProgress("drill", $"Restoring {filename} into scratch copies"));
            using var archive = BackupArchiveReader.Open(path);
            // A drill runs the archive's SQL in a scratch database: only for this installation's own backups.
            if (_signer is not null && !_signer.IsOwn(ArchiveSummary.ReadFromFile(path), filename))
                throw new BackupException(BackupErrorKind.Refused,
                    $"{filename} was not made by this installation (foreign), so it is not drilled: a drill runs a "
                    + $"backup's SQL, and is meant for the clinic's own backups.");
            var plan = PlanRestore(archive.Manifest,
                new RestoreBackupRequest(filename, BackupScope.Full, request.RequestedBy)) with { Drill = true };
            var manifest = archive.Manifest;
            var counts = (Tables: 0, Rows: 0L, Files: 0, Checks: 0);
            var (took, warnings, failures) = await NewRestoreCoordinator().RunDrillAsync(archive,
                () => BackupArchiveReader.Open(path), plan, request.RequestedBy,
                async (database, folders, token) =>
                {
                    var found = new List<string>();
                    if (database is not null) counts = await CheckDatabaseAsync(database, manifest, found,
                        token).ConfigureAwait(false);
                    counts.Files = await CheckFilesAsync(manifest, folders, found, token).ConfigureAwait(false);
                    return found;
                }, progress, cancellationToken).ConfigureAwait(false);
            result = result with
            {
                RestoreDuration = took, Failures = failures, Warnings = warnings,
                TablesChecked = counts.Tables, RowsChecked = counts.Rows, FilesChecked = counts.Files,
                    OperatorChecks = counts.Checks,
            };
        }
        catch (BackupException e) when (e.Kind is not (BackupErrorKind.Busy or BackupErrorKind.NotFound
            or BackupErrorKind.InvalidInput or BackupErrorKind.Cancelled))
        {
            result = result with { Failures = [$"The restore failed: {e.Message}"] };
        }
        catch (IOException e)
        {
            result = result with { Failures = [$"The restore failed: {DescribeIo(e)}"] };
        }
        result = result with { TotalDuration = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
        new DrillHistory(_store.Directory).Add(result);
        if (result.Passed)
            _logger.LogInformation(
                "Restore drill of {Backup} passed: restored in {Seconds:0.0} s, {Tables} tables / {Rows} rows and "
                + "{Files} files checked",
                filename, result.RestoreDuration.TotalSeconds, result.TablesChecked, result.RowsChecked,
                    result.FilesChecked);
        else _logger.LogWarning("Restore drill of {Backup} FAILED: {Failures}", filename,
            string.Join(" ", result.Failures));
        return result;
    }

    /// <summary>Each table's rows against the count recorded at backup time, then the operator's checks
    /// (read-only).</summary>
    private async Task<(int Tables, long Rows, int Files, int Checks)> CheckDatabaseAsync(string database,
        BackupManifest manifest, List<string> failures, CancellationToken cancellationToken)
    {
        var target = _target ?? throw new BackupException(BackupErrorKind.InvalidInput, "No database is configured.");
        // The counts and the operator's checks run in restored code's reach (views, settings): never in a superuser's
        // session.
        var (connection, _) = await new ArchiveSqlLogin(target, _options).OpenAsync(database,
            cancellationToken).ConfigureAwait(false);
        await using var _ = connection;
        // The operator's checks and the counts only read: a check that tries to write fails instead.
        await using (var readOnly = new NpgsqlCommand("SET default_transaction_read_only = on",
            connection)) await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        int tables = 0;
        long rows = 0;
        if (manifest.Database?.RowCounts is not { } recorded)
            failures.Add("This backup recorded no row counts (it was made before they were recorded, or its dump "
                + "could not be read as it was written), so the tables' rows could not be compared.");
        else
        {
            foreach (var (table, expected) in recorded.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                var dot = table.IndexOf('.');
                var sql = $"SELECT count(*) FROM ONLY "
                    + $"{QuoteIdentifier(table[..dot])}.{QuoteIdentifier(table[(dot + 1)..])}";
                long actual;
                try
                {
                    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
                    actual = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                }
                catch (PostgresException e)
                {
                    failures.Add($"The table {table} could not be counted in the restored database ({e.MessageText}).");
                    continue;
                }
                tables++;
                rows += actual;
                if (actual != expected) failures.Add(
                    $"The table {table} has {actual:N0} rows after the restore; the backup recorded {expected:N0}.");
            }
        }
        for (var i = 0; i < _options.DrillChecks.Count; i++)
        {
            var check = _options.DrillChecks[i];
            try
            {
                await using var command = new NpgsqlCommand(check, connection) { CommandTimeout = 300 };
                var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (value is not true)
                    failures.Add($"Check Backup__DrillChecks__{i} ({check}) returned "
                        + $"{(value is null or DBNull ? "nothing" : value)} instead of true.");
            }
            catch (PostgresException e)
            {
                failures.Add($"Check Backup__DrillChecks__{i} ({check}) failed: {e.MessageText}.");
            }
        }
        return (tables, rows, 0, _options.DrillChecks.Count);
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

    private static string QuoteIdentifier(string name) => PgTools.QuoteIdentifier(name);
}
