using Npgsql;

namespace BackupManager.Core.Cluster;

/// <summary>
/// A PostgreSQL session advisory lock every instance of a cluster sees, even where the shared backup folder's file
/// locks do not reach across hosts. <see cref="TryTake"/> holds it on a dedicated session until the returned hold is
/// disposed; a process or host that dies takes its session, and so the lock, along (see
/// <see cref="ClusterConnection"/>). An unreachable database is an error, never "free".
/// </summary>
public sealed class ClusterAdvisoryLock(ClusterOptions options, long key, string purpose)
{
    public long Key => key;

    /// <summary>Takes the lock on a new session: the hold, or null when another session has it.</summary>
    public IDisposable? TryTake()
    {
        var connection = ClusterConnection.Open(options, purpose);
        try
        {
            using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            if (command.ExecuteScalar() is true) return new ClusterLockHold(connection, key);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            connection.Dispose();
            throw ClusterConnection.Unreachable(options, purpose, e);
        }
        connection.Dispose();
        return null;
    }

    /// <summary>Whether any session holds the lock now; null when the database cannot tell.</summary>
    public bool? IsHeldAnywhere()
    {
        try
        {
            using var connection = ClusterConnection.Open(options, purpose);
            using var command = new NpgsqlCommand(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND classid::bigint = @high AND objid::bigint = @low)", connection);
            command.Parameters.AddWithValue("high", key >> 32);
            command.Parameters.AddWithValue("low", key & 0xFFFF_FFFFL);
            return command.ExecuteScalar() is true;
        }
        catch (Exception e) when (e is BackupException or NpgsqlException or TimeoutException)
        {
            return null;
        }
    }
}
