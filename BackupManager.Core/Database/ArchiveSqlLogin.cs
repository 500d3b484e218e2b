using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>
/// The only source of sessions for SQL that comes from an archive: pg_restore's DDL and data, the database-level
/// settings and grants, and the drill's row counts and checks. Every session it hands out was checked, on that very
/// session, to have logged in as a role that is not a superuser and cannot become one by SET ROLE, so restored code
/// that runs RESET ROLE or RESET SESSION AUTHORIZATION falls back to that role and gains nothing. The login is
/// <c>Backup__RestoreConnection</c> when set, else BackupManager's own connection.
/// </summary>
public sealed class ArchiveSqlLogin(PostgresTarget main, BackupOptions options)
{
    public const string Setting = "Backup__RestoreConnection";

    /// <summary>Where archive SQL logs in (never as a superuser: checked on every session).</summary>
    public PostgresTarget Target { get; } = string.IsNullOrWhiteSpace(options.RestoreConnection)
        ? main : new PostgresTarget(options.RestoreConnection, Setting, main.Database);

    private bool Separate => !ReferenceEquals(Target, main);

    /// <summary>
    /// A session in <paramref name="database"/> for archive SQL, and the role it logged in as. Refuses (nothing
    /// changed) when that role is a superuser or a member of one, naming the setting to configure.
    /// </summary>
    public async Task<(NpgsqlConnection Connection, string Role)> OpenAsync(string database,
        CancellationToken cancellationToken)
    {
        var connection = await PgTools.OpenAsync(Target, Target.ConnectionStringFor(database), cancellationToken)
            .ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT session_user::text, r.rolsuper OR EXISTS (
                    SELECT 1 FROM pg_roles s WHERE s.rolsuper AND pg_has_role(r.oid, s.oid, 'MEMBER'))
                FROM pg_roles r WHERE r.rolname = session_user
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw new BackupException(BackupErrorKind.Database,
                    "The database server did not say which role this session logged in as.");
            var (role, superuser) = (reader.GetString(0), reader.GetBoolean(1));
            if (superuser) throw Refusal(role);
            return (connection, role);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checks the login for a program (pg_restore) that uses it in <paramref name="database"/>.</summary>
    public async Task<string> CheckAsync(string database, CancellationToken cancellationToken)
    {
        var (connection, role) = await OpenAsync(database, cancellationToken).ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
        return role;
    }

    private const string Why = "A restore and a restore drill run SQL that comes from the backup archive (its "
        + "tables, functions, settings and grants, and the drill's checks), and that SQL never runs in a superuser's "
        + "session: it could take over the database server. Nothing was changed.";

    private BackupException Refusal(string role) => new(BackupErrorKind.Refused, Separate
        ? $"{Setting} logs in as {role}, a superuser (or a member of a superuser role). {Why} Set {Setting} to log in "
          + "as the database's owner, a role without superuser rights."
        : $"BackupManager logs in to the database server as {role}, a superuser (or a member of a superuser role). "
          + $"{Why} Set {Setting} to a connection string that logs in as the database's owner, a role without "
          + "superuser rights (Host=…;Username=<owner>;Password=…), or connect BackupManager itself as that "
              + "owner.");
}
