using BackupManager.Core.Database;
using Npgsql;

namespace BackupManager.Core.Pitr;

/// <summary>What a drill asks of a database recovered by point-in-time recovery, read-only: each table's rows and
/// the operator's checks (Backup__DrillChecks).</summary>
internal static class RecoveredDatabaseChecks
{
    /// <summary>Rows of each table ("schema.table"); <paramref name="tables"/> null counts every ordinary and
    /// partitioned table outside the system schemas. A table that cannot be counted is a failure.</summary>
    public static async Task<Dictionary<string, long>> CountAsync(NpgsqlConnection connection,
        IEnumerable<string>? tables, List<string> failures, CancellationToken cancellationToken)
    {
        var names = tables?.ToList() ?? await ListTablesAsync(connection, cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in names.OrderBy(t => t, StringComparer.Ordinal))
        {
            var dot = table.IndexOf('.');
            var sql = $"SELECT count(*) FROM ONLY {PgTools.QuoteIdentifier(table[..dot])}."
                + PgTools.QuoteIdentifier(table[(dot + 1)..]);
            try
            {
                await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
                counts[table] = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
            catch (PostgresException e)
            {
                failures.Add($"The table {table} could not be counted in the recovered database ({e.MessageText}).");
            }
        }
        return counts;
    }

    public static async Task<NpgsqlConnection> OpenReadOnlyAsync(string connectionString,
        CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var readOnly = new NpgsqlCommand("SET default_transaction_read_only = on", connection);
        await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Runs each of <paramref name="checks"/>; one that does not return true is a failure.</summary>
    public static async Task RunChecksAsync(NpgsqlConnection connection, IReadOnlyList<string> checks,
        List<string> failures, CancellationToken cancellationToken)
    {
        for (var i = 0; i < checks.Count; i++)
        {
            try
            {
                await using var command = new NpgsqlCommand(checks[i], connection) { CommandTimeout = 300 };
                var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (value is not true)
                    failures.Add($"Check Backup__DrillChecks__{i} ({checks[i]}) returned "
                        + $"{(value is null or DBNull ? "nothing" : value)} instead of true.");
            }
            catch (PostgresException e)
            {
                failures.Add($"Check Backup__DrillChecks__{i} ({checks[i]}) failed: {e.MessageText}.");
            }
        }
    }

    private static async Task<List<string>> ListTablesAsync(NpgsqlConnection connection,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN "
            + "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN "
            + "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }
}
