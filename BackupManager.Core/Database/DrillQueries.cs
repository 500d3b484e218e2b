using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>
/// A drill's SQL, run in the restored scratch database as the database's owner and read-only: each table's rows
/// counted against the backup's record, then the operator's checks (Backup__DrillChecks), each of which must return
/// true.
/// </summary>
internal sealed class DrillQueries(PostgresTarget? target, BackupOptions options)
{
    /// <summary>Each table's rows against the count recorded at backup time, then the operator's checks
    /// (read-only).</summary>
    public async Task<(int Tables, long Rows, int Checks)> CheckAsync(string database, BackupManifest manifest,
        List<string> failures, CancellationToken cancellationToken)
    {
        var login = target ?? throw new BackupException(BackupErrorKind.InvalidInput, "No database is configured.");
        // The counts and the operator's checks run in restored code's reach (views, settings): never in a superuser's
        // session.
        var (connection, _) = await new ArchiveSqlLogin(login, options).OpenAsync(database,
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
                    + $"{PgTools.QuoteIdentifier(table[..dot])}.{PgTools.QuoteIdentifier(table[(dot + 1)..])}";
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
        for (var i = 0; i < options.DrillChecks.Count; i++)
        {
            var check = options.DrillChecks[i];
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
        return (tables, rows, options.DrillChecks.Count);
    }
}
