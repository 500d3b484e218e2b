using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

public sealed partial class PgRestoreRunner
{
    public async Task SwapInAsync(string stagingName, string oldName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var live = target.Database;
        var (hasLive, hasStaging, hasOld) = await ExistAsync(connection, live, stagingName, oldName,
            cancellationToken).ConfigureAwait(false);
        if (!hasStaging) return; // already swapped in
        if (hasLive && hasOld)
            throw new BackupException(BackupErrorKind.Database,
                $"Cannot swap databases: both {live} and {oldName} exist. Inspect them by hand before retrying.");
        if (hasLive) await DisconnectEveryoneAsync(connection, live, cancellationToken).ConfigureAwait(false);
        try
        {
            // Both renames commit together: there is never a moment without a database named live.
            await RenameInOneTransactionAsync(connection, cancellationToken, hasLive ? (live, oldName) : null,
                (stagingName, live)).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            if (hasLive) await ExecuteAsync(connection,
                $"ALTER DATABASE {QuoteIdentifier(live)} WITH ALLOW_CONNECTIONS true",
                CancellationToken.None).ConfigureAwait(false);
            throw new BackupException(BackupErrorKind.Database,
                $"Swapping in the restored database was refused by the server and rolled back, so {live} is unchanged "
                    + $"and open again ({e.MessageText}).", e);
        }
        NpgsqlConnection.ClearAllPools();
    }

    public async Task SwapBackAsync(string stagingName, string oldName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var live = target.Database;
        var (hasLive, hasStaging, hasOld) = await ExistAsync(connection, live, stagingName, oldName,
            cancellationToken).ConfigureAwait(false);
        if (hasLive && hasOld && !hasStaging)
        {
            await DisconnectEveryoneAsync(connection, live, cancellationToken).ConfigureAwait(false);
            await RenameInOneTransactionAsync(connection, cancellationToken, (live, stagingName),
                (oldName, live)).ConfigureAwait(false);
        }
        else if (!hasLive && hasOld)
            await RenameInOneTransactionAsync(connection, cancellationToken, (oldName, live)).ConfigureAwait(false);
        if (hasLive || hasOld)
            await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(live)} WITH ALLOW_CONNECTIONS true",
                cancellationToken).ConfigureAwait(false);
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Renames databases in one transaction (ALTER DATABASE … RENAME may run inside one): all or
    /// none.</summary>
    private static async Task RenameInOneTransactionAsync(NpgsqlConnection connection,
        CancellationToken cancellationToken, params (string From, string To)?[] renames)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var rename in renames)
            if (rename is var (from, to))
                await ExecuteAsync(connection,
                    $"ALTER DATABASE {QuoteIdentifier(from)} RENAME TO {QuoteIdentifier(to)}",
                    cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocks new sessions and ends the open ones so the database can be renamed (the app's pool reconnects
    /// after). Autovacuum workers are the server's: only a superuser may end them, and the rename ends them
    /// itself.</summary>
    private static async Task DisconnectEveryoneAsync(NpgsqlConnection connection, string database,
        CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(database)} WITH ALLOW_CONNECTIONS false",
            cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await using var terminate = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND pid <> "
                    + "pg_backend_pid() AND backend_type = 'client backend'", connection);
            terminate.Parameters.AddWithValue("name", database);
            if ((long)(await terminate.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0) return;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(bool Live, bool Staging, bool Old)> ExistAsync(NpgsqlConnection connection, string live,
        string staging, string old, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = ANY(@names)",
            connection);
        command.Parameters.AddWithValue("names", new[] { live, staging, old });
        var found = new HashSet<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(reader.GetString(0));
        return (found.Contains(live), found.Contains(staging), found.Contains(old));
    }
}
