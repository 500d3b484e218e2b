using BackupManager.Core.Cluster;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Cluster;

/// <summary>Cluster settings over a test's own database (owned by a non-superuser, as deployed), and what the
/// superuser sees of the advisory locks there.</summary>
public static class ClusterTestDatabase
{
    public static ClusterOptions Options(TestDatabase database, string instance, int heartbeatSeconds = 5) => new()
    {
        Enabled = true,
        ConnectionString = database.ConnectionString,
        InstanceName = instance,
        HeartbeatSeconds = heartbeatSeconds,
    };

    /// <summary>The backend pids holding <paramref name="key"/> in <paramref name="database"/>.</summary>
    public static async Task<List<int>> HoldersAsync(TestDatabase database, long key)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.With(database.AdminConnectionString,
            database.Name));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            + "AND classid::bigint = @high AND objid::bigint = @low", connection);
        command.Parameters.AddWithValue("high", key >> 32);
        command.Parameters.AddWithValue("low", key & 0xFFFF_FFFFL);
        var pids = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return pids;
    }

    /// <summary>Ends every session holding <paramref name="key"/>, as the death of its process would.</summary>
    public static async Task TerminateHoldersAsync(TestDatabase database, long key)
    {
        var pids = await HoldersAsync(database, key);
        Assert.NotEmpty(pids);
        foreach (var pid in pids)
            await database.ExecuteAsAdminAsync($"SELECT pg_terminate_backend({pid}, 5000)");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="within"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(100);
        }
        return condition();
    }
}
