using BackupManager.Core.Database;
using BackupManager.Core.Drills;
using BackupManager.Core.Locking;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Drills point-in-time recovery. With a backup's drill: recovers a temporary server to just before the WAL position
/// of the backup's dump snapshot (manifest <c>snapshot_lsn</c>) and compares every table's rows with the counts that
/// backup recorded, so the WAL and base backups are proven against a state known to be right. On its own
/// (<see cref="DrillToTimeAsync"/>): recovers to any time of the window and runs the drill's checks there. The
/// temporary server and its copies are removed afterwards, also on failure.
/// </summary>
public sealed class PitrDrill(PitrSource source, ExternalProcessRunner runner, TimeProvider time,
    BackupOperationLock operationLock, IBackupStore store, ILogger<PitrDrill> logger, PostgresTarget? live = null)
{
    /// <summary>Null while point-in-time recovery is off; otherwise a sentence for the drill's result and the
    /// failures found (none when the snapshot could not be reached: the sentence says why).</summary>
    public async Task<(string Summary, List<string> Failures)?> CheckSnapshotAsync(BackupManifest manifest,
        CancellationToken cancellationToken)
    {
        if (!source.Options.Pitr.Enabled || live is null) return null;
        if (manifest.Trigger == BackupTrigger.PointInTime)
            return ("Point-in-time recovery was not checked: this backup was itself made from a recovered server.", []);
        if (manifest.Database is not { SnapshotLsn: { } lsn, RowCounts: { } recorded } database)
            return ("Point-in-time recovery was not checked: this backup recorded no snapshot position or row "
                + "counts (it was made before they were recorded).", []);
        var window = PitrWindow.Read(source.Layout, false, time.GetUtcNow());
        var (chosen, why) = PitrLsn.Choose(window, lsn, await FlushedAsync(cancellationToken).ConfigureAwait(false));
        if (chosen is null)
            return ($"Point-in-time recovery to the dump's snapshot ({lsn}) was not checked: {why}.", []);
        var failures = new List<string>();
        try
        {
            await using var instance = RecoveryInstance.Prepare(source.Layout, window, chosen, runner);
            var user = live.Username ?? "postgres";
            await instance.RecoverToLsnAsync(lsn, user, source.Options.CommandTimeout, cancellationToken)
                .ConfigureAwait(false);
            await using var connection = await RecoveredDatabaseChecks.OpenReadOnlyAsync(
                instance.ConnectionString(user, database.Name), cancellationToken).ConfigureAwait(false);
            var counted = await RecoveredDatabaseChecks.CountAsync(connection, recorded.Keys, failures,
                cancellationToken).ConfigureAwait(false);
            foreach (var (table, expected) in recorded.OrderBy(t => t.Key, StringComparer.Ordinal))
                if (counted.TryGetValue(table, out var actual) && actual != expected)
                    failures.Add($"Point-in-time recovery to the dump's snapshot ({lsn}): the table {table} has "
                        + $"{actual:N0} rows; the backup recorded {expected:N0}.");
        }
        catch (Exception e) when (e is BackupException or NpgsqlException or IOException)
        {
            failures.Add($"Point-in-time recovery to the dump's snapshot ({lsn}) failed: {e.Message}");
        }
        var summary = $"Point-in-time recovery to the dump's snapshot ({lsn}, from base backup {chosen.Name}): "
            + (failures.Count == 0 ? $"all {recorded.Count} tables have the rows the backup recorded."
                : $"{failures.Count} problem(s), see the failures.");
        logger.LogInformation("{Summary}", summary);
        return (summary, failures);
    }

    /// <summary>
    /// Recovers a temporary server to <paramref name="target"/> (inside the window, checked first) and runs the
    /// drill's checks on the clinic's database there: every table counted, Backup__DrillChecks true. Recorded in the
    /// drill history like every drill; holds the operation lock.
    /// </summary>
    public async Task<DrillResult> DrillToTimeAsync(DateTimeOffset target, string requestedBy,
        CancellationToken cancellationToken)
    {
        var database = live ?? throw new BackupException(BackupErrorKind.InvalidInput,
            "No database is configured, so there is nothing to recover to a point in time.");
        using var lease = operationLock.Acquire("drill", requestedBy);
        var flushed = await FlushedAsync(cancellationToken).ConfigureAwait(false);
        var chosen = PitrWindow.Read(source.Layout, flushed is not null, time.GetUtcNow()).Choose(target);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = new DrillResult { Filename = $"point in time {target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z",
            StartedAt = time.GetUtcNow(), RequestedBy = requestedBy };
        var failures = new List<string>();
        try
        {
            await using var instance = RecoveryInstance.Prepare(source.Layout,
                PitrWindow.Read(source.Layout, false, time.GetUtcNow()), chosen, runner);
            var user = database.Username ?? "postgres";
            await instance.RecoverAsync(target, user, source.Options.CommandTimeout, cancellationToken)
                .ConfigureAwait(false);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            await using var connection = await RecoveredDatabaseChecks.OpenReadOnlyAsync(
                instance.ConnectionString(user, database.Database), cancellationToken).ConfigureAwait(false);
            var counted = await RecoveredDatabaseChecks.CountAsync(connection, null, failures, cancellationToken)
                .ConfigureAwait(false);
            if (source.Options.DrillChecks.Count > 0)
            {
                // The checks read objects the clinic's database defines: never in a superuser's session.
                var role = new ArchiveSqlLogin(database, source.Options).Target.Username ?? user;
                var login = new ArchiveSqlLogin(new PostgresTarget(instance.ConnectionString(role, database.Database),
                    "the temporary point-in-time server"), new BackupOptions());
                var (checks, _) = await login.OpenAsync(database.Database, cancellationToken).ConfigureAwait(false);
                await using (checks)
                {
                    await using (var readOnly = new NpgsqlCommand("SET default_transaction_read_only = on", checks))
                        await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await RecoveredDatabaseChecks.RunChecksAsync(checks, source.Options.DrillChecks, failures,
                        cancellationToken).ConfigureAwait(false);
                }
            }
            result = result with { RestoreDuration = took, TablesChecked = counted.Count,
                RowsChecked = counted.Values.Sum(), OperatorChecks = source.Options.DrillChecks.Count,
                PointInTime = $"Recovered to {target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z from base backup "
                    + $"{chosen.Name}." };
        }
        catch (Exception e) when (e is BackupException { Kind: not BackupErrorKind.Cancelled } or NpgsqlException)
        {
            failures.Add($"The point-in-time recovery failed: {e.Message}");
        }
        result = result with { Failures = failures,
            TotalDuration = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
        new DrillHistory(store.Directory).Add(result);
        logger.LogInformation("Point-in-time drill to {Target}: {Outcome}", target,
            result.Passed ? "passed" : string.Join(" ", failures));
        return result;
    }

    /// <summary>How far the receiver has written, as the server's slot says (null when no receiver streams or the
    /// server cannot be asked).</summary>
    private async Task<ulong?> FlushedAsync(CancellationToken cancellationToken)
    {
        try
        {
            var target = source.RequireTarget();
            await using var connection = await PgTools.OpenAsync(target, target.ConnectionString,
                cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT restart_lsn::text FROM pg_replication_slots "
                + "WHERE slot_name = $1 AND active", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = source.Layout.SlotName });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string lsn
                ? PitrLsn.Parse(lsn) : null;
        }
        catch (BackupException) { return null; }
    }
}
