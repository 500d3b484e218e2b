using System.Text.RegularExpressions;
using Npgsql;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Creates Quartz's tables (Quartz.NET's own PostgreSQL script, embedded as QuartzTablesPostgres.sql) in their own
/// schema of the cluster's database, as the login that owns that database. One transaction under an advisory lock:
/// instances that start together wait for each other, the first creates the tables, the rest find them and do
/// nothing. A schema holding only some of the tables is refused rather than patched.
/// </summary>
public static partial class QuartzSchemaInstaller
{
    /// <summary>Quartz's table prefix in the schema the script creates.</summary>
    public const string Schema = "quartz";
    public const string TablePrefix = Schema + ".qrtz_";

    /// <summary>pg_advisory_xact_lock key of the installation ("BMQuartz" in ASCII); no other lock uses it.</summary>
    public const long AdvisoryLockKey = 0x424D_5175_6172_747A;

    private const string ResourceName = "BackupManager.Web.Cluster.QuartzTablesPostgres.sql";

    /// <summary>The embedded script, as run.</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>The tables the script creates, unqualified (qrtz_job_details, …).</summary>
    public static IReadOnlyList<string> Tables { get; } =
        [.. CreateTable().Matches(Script).Select(m => m.Groups[1].Value)];

    /// <summary>Creates the schema and its tables unless they exist; true when this call created them.</summary>
    public static async Task<bool> InstallAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})",
            cancellationToken);
        var present = await PresentTablesAsync(connection, transaction, cancellationToken);
        if (present.Count == Tables.Count) return false;
        var missing = Tables.Except(present).Order(StringComparer.Ordinal);
        if (present.Count > 0)
            throw new InvalidOperationException(
                $"The schema \"{Schema}\" of the cluster's database holds only some of the tables Quartz needs ("
                + string.Join(", ", present) + ", missing " + string.Join(", ", missing)
                + "). If an older Quartz made them, run Quartz's scripts under database/migrations for the versions "
                + $"since; otherwise, while no instance runs, drop the schema (DROP SCHEMA {Schema} CASCADE) and start "
                + "again: BackupManager creates the tables only in a schema that holds none of them.");
        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {Schema}", cancellationToken);
        await ExecuteAsync(connection, transaction, Script, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<List<string>> PresentTablesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE n.nspname = @schema AND c.relkind IN ('r', 'p') AND c.relname = ANY(@tables) ORDER BY 1",
            connection, transaction);
        command.Parameters.AddWithValue("schema", Schema);
        command.Parameters.AddWithValue("tables", Tables.ToArray());
        var present = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) present.Add(reader.GetString(0));
        return present;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ReadScript()
    {
        using var stream = typeof(QuartzSchemaInstaller).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"CREATE TABLE (?:IF NOT EXISTS )?quartz\.(qrtz_\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTable();
}
