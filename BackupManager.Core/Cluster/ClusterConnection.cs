using Npgsql;

namespace BackupManager.Core.Cluster;

/// <summary>
/// Dedicated sessions to the accounts database for advisory locks. Never pooled: closing one ends its session, and the
/// session's locks go with it. The server is told to probe the client (TCP keepalives), so a lock whose host died
/// without closing its socket is freed within about <see cref="ClusterOptions.HandoverSeconds"/>; a killed process
/// closes its socket and frees its locks at once.
/// </summary>
public static class ClusterConnection
{
    /// <summary>Seconds of silence before the server probes, between probes, and probes lost before it drops
    /// the session: idle + interval x count stays under the hand-over time (10 + 3 x 3 = 19 s for the default
    /// 20).</summary>
    public static (int Idle, int Interval, int Count) Keepalives(ClusterOptions options)
    {
        var handover = Math.Max(3, options.HandoverSeconds);
        return (Math.Max(1, handover / 2), Math.Max(1, handover / 6), 3);
    }

    /// <summary>Opens a session and sets its keepalives; throws <see cref="BackupException"/> (Database) saying what
    /// to check when the database cannot be reached.</summary>
    public static NpgsqlConnection Open(ClusterOptions options, string purpose)
    {
        var connection = new NpgsqlConnection(ConnectionString(options, purpose));
        try
        {
            connection.Open();
            using var command = new NpgsqlCommand(KeepaliveSql(options), connection);
            command.ExecuteNonQuery();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            connection.Dispose();
            throw Unreachable(options, purpose, e);
        }
    }

    /// <summary>The asynchronous <see cref="Open"/>.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(ClusterOptions options, string purpose,
        CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(ConnectionString(options, purpose));
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(KeepaliveSql(options), connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Unreachable(options, purpose, e);
        }
    }

    /// <summary>Where the cluster meets, without credentials, for messages.</summary>
    public static string Describe(ClusterOptions options)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return $"database {b.Database} on {b.Host}:{b.Port}";
        }
        catch (ArgumentException) { return "the accounts database"; }
    }

    public static BackupException Unreachable(ClusterOptions options, string purpose, Exception cause) =>
        new(BackupErrorKind.Database,
            $"Cluster mode (Backup__Cluster__Enabled=true) could not reach {Describe(options)} for {purpose}: "
            + $"{cause.Message} Every instance meets there, so nothing that needs it runs until it answers. Check "
            + "that PostgreSQL runs and ConnectionStrings__Accounts (or __Default) is right, then try again.", cause);

    private static string ConnectionString(ClusterOptions options, string purpose)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new BackupException(BackupErrorKind.Environment,
                "Cluster mode (Backup__Cluster__Enabled=true) has no database to meet in: set "
                + "ConnectionStrings__Default (the accounts database is derived from it) or "
                + "ConnectionStrings__Accounts.");
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            Pooling = false,
            Timeout = 10,
            CommandTimeout = Math.Clamp(options.HeartbeatSeconds, 2, 10),
            ApplicationName = $"BackupManager {purpose} ({options.ResolvedInstanceName})",
        };
        return builder.ConnectionString;
    }

    private static string KeepaliveSql(ClusterOptions options)
    {
        var (idle, interval, count) = Keepalives(options);
        return $"SET tcp_keepalives_idle = {idle}; SET tcp_keepalives_interval = {interval}; "
            + $"SET tcp_keepalives_count = {count}";
    }
}
