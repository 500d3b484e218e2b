using Npgsql;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// The private PostgreSQL cluster started by scripts/test.sh (BACKUPMANAGER_TEST_PG). Every test creates its own
/// database through <see cref="CreateDatabaseAsync"/> and drops it when done.
/// </summary>
public static class TestPostgres
{
    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_PG")
        ?? throw new InvalidOperationException(
            "BACKUPMANAGER_TEST_PG is not set. Run the tests with ./scripts/test.sh, "
            + "which starts the test PostgreSQL cluster.");

    /// <summary>
    /// The second private cluster (the "new server" of disaster-recovery tests), also started by scripts/test.sh.
    /// </summary>
    public static string DisasterRecoveryConnectionString =>
        Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_PG_DR")
        ?? throw new InvalidOperationException(
            "BACKUPMANAGER_TEST_PG_DR is not set. Run the tests with ./scripts/test.sh, "
            + "which starts the second test cluster.");

    /// <summary>
    /// A new database. With <paramref name="asOwnerRole"/> it is owned by a new non-superuser role with LOGIN and
    /// CREATEDB (the documented deployment), and <see cref="TestDatabase.ConnectionString"/> connects as that role.
    /// <paramref name="name"/> and <paramref name="ownerRole"/> reuse names (a second server with the same owner).
    /// </summary>
    public static async Task<TestDatabase> CreateDatabaseAsync(
        bool asOwnerRole = false, string? adminConnectionString = null, string? name = null,
        string? ownerRole = null)
    {
        var admin = adminConnectionString ?? AdminConnectionString;
        name ??= "bm_t_" + Guid.NewGuid().ToString("N")[..12];
        string? owner = null, password = null;
        if (asOwnerRole || ownerRole is not null)
        {
            owner = ownerRole ?? "bm_o_" + name[5..];
            password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
            await ExecuteAsync(admin, "postgres", $"CREATE ROLE \"{owner}\" LOGIN CREATEDB PASSWORD '{password}'");
        }
        await ExecuteAsync(
            admin, "postgres", $"CREATE DATABASE \"{name}\"" + (owner is null ? "" : $" OWNER \"{owner}\""));
        var connectionString = owner is null
            ? With(admin, name)
            : With(new NpgsqlConnectionStringBuilder(admin) { Username = owner }.ConnectionString, name, password);
        return new TestDatabase(name, connectionString, admin, owner);
    }

    public static async Task ExecuteAsync(string connectionString, string database, string sql)
    {
        await using var connection = new NpgsqlConnection(With(connectionString, database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static string With(string connectionString, string database, string? password = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Pooling = false };
        if (password is not null) builder.Password = password;
        return builder.ConnectionString;
    }
}

/// <summary>
/// A database of one test. Disposal drops it and any staging or old copies a restore left under its name.
/// </summary>
public sealed class TestDatabase(
    string name, string connectionString, string adminConnectionString, string? ownerRole) : IAsyncDisposable
{
    private readonly List<string> _roles = ownerRole is null ? [] : [ownerRole];

    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;
    /// <summary>
    /// The superuser connection of the cluster this database is on (connected to its maintenance database).
    /// </summary>
    public string AdminConnectionString { get; } = adminConnectionString;
    /// <summary>The non-superuser owner the database was made for, or null when it belongs to the superuser.</summary>
    public string? OwnerRole { get; } = ownerRole;

    /// <summary>A role that is dropped with the database (roles belong to the whole cluster).</summary>
    public string NewRoleName(string purpose)
    {
        var role = $"bm_{purpose}_{Guid.NewGuid().ToString("N")[..8]}";
        _roles.Add(role);
        return role;
    }

    /// <summary>Drops <paramref name="role"/> (made by someone else, say a restore) with the database.</summary>
    public void DropWithDatabase(string role) => _roles.Add(role);

    /// <summary>Runs <paramref name="sql"/> as the superuser, in this database.</summary>
    public Task ExecuteAsAdminAsync(string sql) => TestPostgres.ExecuteAsync(AdminConnectionString, Name, sql);

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    /// <summary>Every row of a query as text, in order, for comparing table contents.</summary>
    public async Task<List<string>> RowsAsync(string sql, bool asAdmin = false)
    {
        await using var connection = new NpgsqlConnection(
            asAdmin ? TestPostgres.With(AdminConnectionString, Name) : ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(string.Join("|", values.Select(v => v is byte[] b
                ? Convert.ToHexString(b)
                : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }

    /// <summary>
    /// This database and any staging or old copies a restore left under its name (not the web app's accounts
    /// database, <c>&lt;name&gt;_accounts</c>).
    /// </summary>
    public async Task<List<string>> DatabasesLikeAsync() =>
        (await AllDatabasesUnderThisNameAsync()).Where(n => n != Name + "_accounts").ToList();

    private async Task<List<string>> AllDatabasesUnderThisNameAsync()
    {
        await using var connection = new NpgsqlConnection(TestPostgres.With(AdminConnectionString, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT datname FROM pg_database WHERE datname LIKE @p ORDER BY 1", connection);
        command.Parameters.AddWithValue("p", Name + "%");
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var database in await AllDatabasesUnderThisNameAsync())
            await TestPostgres.ExecuteAsync(
                AdminConnectionString, "postgres", $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        // Roles last: a role cannot go while a database still holds its objects or grants.
        foreach (var role in _roles.AsEnumerable().Reverse())
            await TestPostgres.ExecuteAsync(AdminConnectionString, "postgres", $"DROP ROLE IF EXISTS \"{role}\"");
    }
}
