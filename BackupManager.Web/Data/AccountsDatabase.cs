using Npgsql;

namespace BackupManager.Web.Data;

/// <summary>
/// Users, roles, their claims and the personal access tokens live in a database of their own, never in the database
/// that is backed up: a restore never rolls back a revoked token or permission and an uploaded archive cannot plant an
/// account — and the backups hold no password hashes. <c>ConnectionStrings:Accounts</c> when set; otherwise
/// <c>&lt;application database&gt;_accounts</c> on the same server with the same login, made at first start (the role
/// has CREATEDB for restores already). Installations from before this split are moved over once (see
/// <see cref="MoveLegacyAccountsAsync"/>).
/// </summary>
public static class AccountsDatabase
{
    /// <summary>The migration that created the account tables in the application database, before the split.</summary>
    private const string LegacyMigration = "20261127051450_CreateIdentitySchema";

    /// <summary>Tables in an order that satisfies their foreign keys.</summary>
    private static readonly string[] Tables =
        ["AspNetRoles", "AspNetUsers", "AspNetRoleClaims", "AspNetUserClaims", "AspNetUserLogins", "AspNetUserRoles",
            "AspNetUserTokens", "PersonalAccessTokens"];

    public static string ConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString("Accounts");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Default") ?? "");
        builder.Database = (builder.Database ?? "backupmanager") + "_accounts";
        return builder.ConnectionString;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> MadeHere =
        new(StringComparer.Ordinal);

    /// <summary>Whether this process made that accounts database (the cluster's key ring may make it before start-up
    /// does): the one-time move of an older installation's accounts then still runs. Per database, so one process
    /// hosting several apps (the tests) does not carry it from one to the next.</summary>
    public static bool CreatedByThisProcess(string accountsConnectionString) =>
        MadeHere.ContainsKey(ServerAndDatabase(accountsConnectionString));

    private static string ServerAndDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    /// <summary>Creates the accounts database when it does not exist; true when this call created it.</summary>
    public static async Task<bool> EnsureExistsAsync(string accountsConnectionString, string maintenanceDatabase,
        CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(accountsConnectionString);
        var name = builder.Database!;
        builder.Database = maintenanceDatabase;
        builder.Pooling = false;
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
        {
            exists.Parameters.AddWithValue("name", name);
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null) return false;
        }
        try
        {
            await using var create = new NpgsqlCommand(
                $"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            MadeHere[ServerAndDatabase(accountsConnectionString)] = true;
            return true;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase
            or PostgresErrorCodes.UniqueViolation)
        {
            // Another process (two app servers, or the web app and a command, starting together) made it first; at the
            // same instant PostgreSQL reports the catalog's unique index rather than "already exists".
            return false;
        }
    }

    /// <summary>
    /// Moves the accounts of an installation from before the split out of the application database: copies every
    /// account
    /// table into the new, empty accounts database, then drops them from the application database — only when that
    /// database's migration history proves they are BackupManager's own. Returns a sentence for the log, or null.
    /// </summary>
    public static async Task<string?> MoveLegacyAccountsAsync(string applicationConnectionString,
        string accountsConnectionString, CancellationToken cancellationToken)
    {
        await using var source = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(applicationConnectionString) { Pooling = false }.ConnectionString);
        await source.OpenAsync(cancellationToken);
        await using (var ours = new NpgsqlCommand(
            "SELECT to_regclass('public.\"__EFMigrationsHistory\"') IS NOT NULL AND "
                + "to_regclass('public.\"AspNetUsers\"') IS NOT NULL", source))
        {
            if (!(bool)(await ours.ExecuteScalarAsync(cancellationToken))!) return null;
        }
        await using (var history = new NpgsqlCommand(
            "SELECT count(*) FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" = @id", source))
        {
            history.Parameters.AddWithValue("id", LegacyMigration);
            if ((long)(await history.ExecuteScalarAsync(cancellationToken))! == 0) return null;
        }
        await using var target = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(accountsConnectionString) { Pooling = false }.ConnectionString);
        await target.OpenAsync(cancellationToken);
        await using (var transaction = await target.BeginTransactionAsync(cancellationToken))
        {
            foreach (var table in Tables)
            {
                // Columns added since (a token's expiry) stay at their defaults.
                var wanted = await ColumnsAsync(target, table, cancellationToken);
                var columns = (await ColumnsAsync(source, table, cancellationToken)).Where(wanted.Contains).ToList();
                var list = string.Join(", ", columns.Select(c => $"\"{c}\""));
                await using var reader = await source.BeginRawBinaryCopyAsync(
                    $"COPY \"{table}\" ({list}) TO STDOUT (FORMAT BINARY)", cancellationToken);
                await using var writer = await target.BeginRawBinaryCopyAsync(
                    $"COPY \"{table}\" ({list}) FROM STDIN (FORMAT BINARY)", cancellationToken);
                await reader.CopyToAsync(writer, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        long users;
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM \"AspNetUsers\"", target))
            users = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        var dropSql = string.Join("; ", Tables.Reverse().Select(t => $"DROP TABLE \"{t}\""))
            + "; DROP TABLE \"__EFMigrationsHistory\"";
        try
        {
            await using var drop = new NpgsqlCommand(dropSql, source);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            // The accounts are safely in their own database already; the old copies are only dead weight in the
            // backups.
            return $"Moved {users} account(s), their roles and tokens into {target.Database}, but their old tables "
                + $"could not be dropped from the backed-up database ({e.MessageText}); "
                + $"they are no longer used. Drop them as their owner: {dropSql};";
        }
        return $"Moved {users} account(s), their roles and tokens out of the backed-up database into "
            + $"{target.Database}: restores can no longer change who may sign in.";
    }

    private static async Task<List<string>> ColumnsAsync(NpgsqlConnection connection, string table,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table "
                + "ORDER BY ordinal_position", connection);
        command.Parameters.AddWithValue("table", table);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) columns.Add(reader.GetString(0));
        return columns;
    }
}
