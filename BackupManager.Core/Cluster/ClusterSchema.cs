using System.Text.RegularExpressions;
using Npgsql;

namespace BackupManager.Core.Cluster;

/// <summary>
/// BackupManager's own cluster tables in the accounts database: <c>instances</c> (who is alive), <c>jobs</c> (every
/// instance's background jobs) and <c>data_protection_keys</c> (the sign-in key ring every instance reads).
/// Installed at start by the database's owner; idempotent, and safe when several instances start at once (one
/// transaction under a transaction-scoped advisory lock).
/// </summary>
public static partial class ClusterSchema
{
    /// <summary>Key of the advisory lock that serialises installs (any constant other parts of the app do not use).
    /// </summary>
    private const long InstallLockKey = 0x426d436c4a6f6273; // "BmClJobs"

    /// <summary>The schema name, quoted; throws a configuration error for anything but a plain lower-case name.
    /// </summary>
    public static string Quoted(string schema) => PlainName().IsMatch(schema) ? $"\"{schema}\""
        : throw new BackupException(BackupErrorKind.InvalidInput, $"Backup__Cluster__Schema '{schema}' must be a "
            + "lower-case name of letters, digits and underscores (default backupmanager_cluster).");

    public static async Task InstallAsync(NpgsqlDataSource database, string schema,
        CancellationToken cancellationToken)
    {
        var s = Quoted(schema);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({InstallLockKey});
            CREATE SCHEMA IF NOT EXISTS {s};
            CREATE TABLE IF NOT EXISTS {s}.instances (
                incarnation uuid PRIMARY KEY,
                name text NOT NULL,
                started timestamptz NOT NULL,
                heartbeat timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS {s}.jobs (
                id uuid PRIMARY KEY,
                kind text NOT NULL,
                status text NOT NULL,
                instance text NOT NULL,
                incarnation uuid NOT NULL,
                actor text NOT NULL,
                started timestamptz NOT NULL,
                updated timestamptz NOT NULL,
                finished timestamptz,
                stage text,
                progress double precision,
                backup text,
                error text,
                error_kind text,
                state jsonb NOT NULL);
            CREATE TABLE IF NOT EXISTS {s}.data_protection_keys (
                id bigserial PRIMARY KEY,
                friendly_name text NOT NULL,
                xml text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX IF NOT EXISTS jobs_unfinished ON {s}.jobs (status) WHERE finished IS NULL;
            """, connection, transaction))
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainName();
}
