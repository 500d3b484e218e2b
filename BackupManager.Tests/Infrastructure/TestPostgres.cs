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
        ?? throw new InvalidOperationException("BACKUPMANAGER_TEST_PG is not set. Run the tests with ./scripts/test.sh, which starts the test PostgreSQL cluster.");

    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "bm_t_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(With(AdminConnectionString, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new TestDatabase(name, With(AdminConnectionString, name));
    }

    public static string With(string connectionString, string database, string? password = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Pooling = false };
        if (password is not null) builder.Password = password;
        return builder.ConnectionString;
    }
}

/// <summary>A database of one test. Disposal drops it and any staging or old copies a restore left under its name.</summary>
public sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;

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
    public async Task<List<string>> RowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(string.Join("|", values.Select(v => v is byte[] b ? Convert.ToHexString(b) : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }

    public async Task<List<string>> DatabasesLikeAsync()
    {
        await using var connection = new NpgsqlConnection(TestPostgres.With(TestPostgres.AdminConnectionString, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE @p ORDER BY 1", connection);
        command.Parameters.AddWithValue("p", Name + "%");
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var database in await DatabasesLikeAsync())
        {
            await using var connection = new NpgsqlConnection(TestPostgres.With(TestPostgres.AdminConnectionString, "postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
