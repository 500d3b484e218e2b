using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>
/// Gives the staging database the backup's database-level state, after pg_restore (a setting such as
/// default_transaction_read_only must not affect the load). The statements are built from the archive's manifest, so
/// they run over the archive login (<see cref="ArchiveSqlLogin"/>), as the staging database's owner. A per-role setting
/// that login may not make becomes a warning with the statement to run, except one that any role may make for itself
/// (context "user") for a role that is no superuser: BackupManager's superuser connection applies that one.
/// </summary>
internal sealed class DatabaseStateApplier(PostgresTarget target, ArchiveSqlLogin login,
    Func<CancellationToken, Task<NpgsqlConnection>>? openSuperuser)
{
    public async Task<IReadOnlyList<string>> ApplyAsync(DatabaseState state, string stagingName, string? actAs,
        CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var (connection, _) = await login.OpenAsync(stagingName, cancellationToken).ConfigureAwait(false);
        await using var _ = connection;
        if (actAs is not null)
        {
            var setRole = $"SET ROLE {QuoteIdentifier(actAs)}";
            await ExecuteAsync(connection, setRole, cancellationToken).ConfigureAwait(false);
        }
        var forStaging = state.Statements(stagingName).ToList();
        var forLive = state.Statements(target.Database).ToList();
        for (var i = 0; i < forStaging.Count; i++)
        {
            try { await ExecuteAsync(connection, forStaging[i].Sql, cancellationToken).ConfigureAwait(false); }
            catch (PostgresException e) when (forStaging[i].NeedsRoleRights
                && e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                if (openSuperuser is not null && forStaging[i].Setting is { Role: { } role } setting)
                {
                    await using var superuser = await openSuperuser(cancellationToken).ConfigureAwait(false);
                    var harmless = await GrantsNothingAsync(superuser, role, setting.Name, cancellationToken)
                        .ConfigureAwait(false);
                    if (harmless)
                    {
                        await ExecuteAsync(superuser, forStaging[i].Sql, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }
                warnings.Add($"A per-role setting of the backup's database could not be restored ({e.MessageText}). "
                    + $"As a superuser, run: {forLive[i].Sql};");
            }
            catch (PostgresException e)
            {
                throw new BackupException(BackupErrorKind.Database, "The backup's database-level settings could not be "
                    + $"given to the restored database ({e.MessageText}; statement: {forLive[i].Sql}).", e);
            }
        }
        return warnings;
    }

    /// <summary>A setting any role may make for itself, for a role that is not and cannot become a superuser.</summary>
    private static async Task<bool> GrantsNothingAsync(NpgsqlConnection superuser, string role, string setting,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT coalesce((SELECT context = 'user' FROM pg_settings WHERE lower(name) = lower(@setting)), false)
               AND coalesce((SELECT NOT r.rolsuper AND NOT EXISTS (
                                 SELECT 1 FROM pg_roles s WHERE s.rolsuper AND pg_has_role(r.oid, s.oid, 'MEMBER'))
                             FROM pg_roles r WHERE r.rolname = @role), false)
            """, superuser);
        command.Parameters.AddWithValue("setting", setting);
        command.Parameters.AddWithValue("role", role);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
