using Npgsql;

namespace BackupManager.Core.Cluster;

/// <summary>A held <see cref="ClusterAdvisoryLock"/>: disposing unlocks it and ends the session (unlocking first,
/// so the next taker does not race the server's clean-up of a closed session).</summary>
internal sealed class ClusterLockHold(NpgsqlConnection connection, long key) : IDisposable
{
    private bool _released;

    public void Dispose()
    {
        if (_released) return;
        _released = true;
        try
        {
            using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            command.ExecuteNonQuery();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The session is gone already, and its lock with it.
        }
        connection.Dispose();
    }
}
