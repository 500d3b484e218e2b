using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>
/// Restores with parallel <c>pg_restore --jobs</c> into a staging database, then swaps it in by
/// <c>ALTER DATABASE … RENAME</c>. The result is exactly the backup's database — tables created after the backup do
/// not survive, unlike <c>pg_restore --clean</c>. Needs a role that owns the database and may create databases.
/// </summary>
public sealed class PgRestoreRunner(PostgresTarget target, BackupOptions options, ExternalProcessRunner runner) : IDatabaseRestorer
{
    public string DatabaseName => target.Database;

    public async Task<IReadOnlyList<string>> PrepareAsync(string stagingName, ManifestDatabase recorded, bool foreign, Func<Stream, CancellationToken, Task> writeDump,
        CancellationToken cancellationToken, bool createMissingRoles = true)
    {
        var warnings = new List<string>();
        bool superuser;
        string currentUser;
        string? restoreAs = null;
        DatabaseState? appliedState = null;
        await using (var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var who = new NpgsqlCommand("SELECT rolsuper, current_user::text FROM pg_roles WHERE rolname = current_user", connection))
            await using (var reader = await who.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                (superuser, currentUser) = (reader.GetBoolean(0), reader.GetString(1));
            }
            // Archives of format 1 recorded no state: keep the live database's encoding, locale and owner.
            var state = recorded.State ?? await LiveStateAsync(connection, cancellationToken).ConfigureAwait(false);
            // A foreign archive does not choose who owns the clinic's database (it could name any role): the live owner stays.
            if (foreign && recorded.State is not null && await LiveStateAsync(connection, cancellationToken).ConfigureAwait(false) is { } live)
                state = state! with { Owner = live.Owner };
            appliedState = recorded.State is null ? null : state;
            var create = $"CREATE DATABASE {QuoteIdentifier(stagingName)}" + (state?.CreateOptions() ?? " TEMPLATE template0");
            if (state is not null && (superuser || state.Owner == currentUser)) create += $" OWNER {QuoteIdentifier(state.Owner)}";
            else if (state is not null)
                warnings.Add($"The backup's database was owned by {state.Owner}; the restored one is owned by {currentUser}, the role BackupManager connects as, "
                    + $"because only a superuser may give a database to another role. As a superuser, run: ALTER DATABASE {QuoteIdentifier(target.Database)} OWNER TO {QuoteIdentifier(state.Owner)};");
            // An archive's SQL never runs with superuser rights: over a superuser connection it runs as the database's
            // owner (SET ROLE), unless that owner is itself a superuser.
            if (superuser && state is not null && !await IsSuperuserAsync(connection, state.Owner, cancellationToken).ConfigureAwait(false)) restoreAs = state.Owner;
            if (foreign && superuser && restoreAs is null)
                throw new BackupException(BackupErrorKind.Refused,
                    $"This archive was not made by this installation, and its SQL would run with superuser rights (BackupManager connects as a superuser and the database's owner {state?.Owner ?? "(unknown)"} is one), "
                    + "which could give whoever made it control of the database server. Nothing was changed. Connect BackupManager as a non-superuser role that owns the database (with CREATEDB), then restore it again.");
            // Then the roles (after every refusal, so a refused restore creates none): the dump's grants and owners name them.
            if (recorded.Roles is { } roles && await RequiredRoles.EnsureAsync(connection, roles, cancellationToken, createMissingRoles).ConfigureAwait(false) is { } created)
                warnings.Add(created);
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {QuoteIdentifier(stagingName)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
            try { await ExecuteAsync(connection, create, cancellationToken).ConfigureAwait(false); }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new BackupException(BackupErrorKind.Database,
                    $"The database role '{target.Username}' may not create databases, which a restore needs for its staging copy ({e.MessageText}). " +
                    $"Grant it with: ALTER ROLE {QuoteIdentifier(target.Username ?? "")} CREATEDB;", e);
            }
            catch (PostgresException e)
            {
                throw new BackupException(BackupErrorKind.Database,
                    $"The staging database could not be created as the backup's database was ({e.MessageText}). If a locale is missing, install it on the database server (locale-gen, or the ICU library) and restore again.", e);
            }
        }

        await RestoreDumpAsync(stagingName, superuser && restoreAs is null, restoreAs, writeDump, cancellationToken).ConfigureAwait(false);
        if (appliedState is not null) warnings.AddRange(await ApplyStateAsync(appliedState, stagingName, restoreAs, cancellationToken).ConfigureAwait(false));
        return warnings;
    }

    /// <summary>
    /// Gives the staging database the backup's database-level state, after pg_restore (a setting such as
    /// default_transaction_read_only must not affect the load). A per-role setting this role may not make becomes a
    /// warning with the statement to run; anything else that fails fails the restore before the swap.
    /// </summary>
    private async Task<IReadOnlyList<string>> ApplyStateAsync(DatabaseState state, string stagingName, string? restoreAs, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        // As the owner, like the dump: a crafted archive's settings get no more rights than the database's owner has.
        if (restoreAs is not null) await ExecuteAsync(connection, $"SET ROLE {QuoteIdentifier(restoreAs)}", cancellationToken).ConfigureAwait(false);
        var forStaging = state.Statements(stagingName).ToList();
        var forLive = state.Statements(target.Database).ToList();
        for (var i = 0; i < forStaging.Count; i++)
        {
            try { await ExecuteAsync(connection, forStaging[i].Sql, cancellationToken).ConfigureAwait(false); }
            catch (PostgresException e) when (forStaging[i].NeedsRoleRights && e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                // A setting any role may make for itself (context "user") grants nothing: the superuser may apply it for that role.
                if (restoreAs is not null && forStaging[i].Setting is { } setting && await IsUserSettingAsync(connection, setting.Name, cancellationToken).ConfigureAwait(false))
                {
                    await ExecuteAsync(connection, "RESET ROLE", cancellationToken).ConfigureAwait(false);
                    try { await ExecuteAsync(connection, forStaging[i].Sql, cancellationToken).ConfigureAwait(false); }
                    finally { await ExecuteAsync(connection, $"SET ROLE {QuoteIdentifier(restoreAs)}", cancellationToken).ConfigureAwait(false); }
                    continue;
                }
                warnings.Add($"A per-role setting of the backup's database could not be restored ({e.MessageText}). As a superuser, run: {forLive[i].Sql};");
            }
            catch (PostgresException e)
            {
                throw new BackupException(BackupErrorKind.Database,
                    $"The backup's database-level settings could not be given to the restored database ({e.MessageText}; statement: {forLive[i].Sql}).", e);
            }
        }
        return warnings;
    }

    private static async Task<bool> IsSuperuserAsync(NpgsqlConnection connection, string role, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = @role), false)", connection);
        command.Parameters.AddWithValue("role", role);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task<bool> IsUserSettingAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce((SELECT context = 'user' FROM pg_settings WHERE lower(name) = lower(@name)), false)", connection);
        command.Parameters.AddWithValue("name", name);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<DatabaseState?> LiveStateAsync(NpgsqlConnection maintenance, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name AND datallowconn", maintenance))
        {
            exists.Parameters.AddWithValue("name", target.Database);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null) return null;
        }
        await using var live = await OpenAsync(target, target.ConnectionStringFor(target.Database), cancellationToken).ConfigureAwait(false);
        var state = await DatabaseState.ReadAsync(live, cancellationToken).ConfigureAwait(false);
        return new DatabaseState { Owner = state.Owner, Encoding = state.Encoding, LocaleProvider = state.LocaleProvider, Collate = state.Collate, Ctype = state.Ctype, IcuLocale = state.IcuLocale };
    }

    /// <summary><paramref name="keepOwners"/>: restore each object's recorded owner (as a superuser owner only); <paramref name="restoreAs"/>: SET ROLE first.</summary>
    private async Task RestoreDumpAsync(string stagingName, bool keepOwners, string? restoreAs, Func<Stream, CancellationToken, Task> writeDump, CancellationToken cancellationToken)
    {
        var jobs = options.EffectiveRestoreJobs;
        // pg_restore runs parallel jobs only from a file; one job reads the dump straight from the archive.
        // A full path: pg_restore must never read a relative name that starts with "-" as an option.
        var dumpPath = jobs > 1 ? Path.Combine(Path.GetFullPath(options.Directory), $".backup-restore.tmp-{Guid.NewGuid():N}.dump") : null;
        try
        {
            var arguments = target.LibpqArguments(stagingName);
            arguments.Add("--exit-on-error");
            // Parallel jobs rule out --single-transaction, and need none: a failed restore only ever leaves the staging
            // database, which is dropped below; the live one is replaced only after this succeeded.
            arguments.Add(dumpPath is null ? "--single-transaction" : "--jobs=" + jobs);
            // Without superuser rights the original owners cannot be set; the restoring role (or the owner it acts as) then owns everything.
            if (!keepOwners) arguments.Add("--no-owner");
            if (restoreAs is not null) arguments.Add("--role=" + restoreAs);
            if (dumpPath is not null)
            {
                // The caller's stream is verified as it is written, so the dump is checked whole before pg_restore reads it.
                await using (var dumpFile = new FileStream(dumpPath, Storage.PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 1 << 20)))
                    await writeDump(dumpFile, cancellationToken).ConfigureAwait(false);
                arguments.Add(dumpPath);
            }
            var result = await runner.RunAsync(new ExternalProcessRequest(Locate("pg_restore", options.PgBinDirectory), arguments)
            {
                Environment = target.LibpqEnvironment(),
                Timeout = options.CommandTimeout,
                WriteStandardInput = dumpPath is null ? writeDump : null,
            }, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0) throw Failure("pg_restore", result, target);
        }
        catch
        {
            await DropIfExistsAsync(stagingName, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (dumpPath is not null)
                try { File.Delete(dumpPath); } catch (IOException) { /* a leftover the next start removes */ }
        }
    }

    public async Task SwapInAsync(string stagingName, string oldName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var live = target.Database;
        var (hasLive, hasStaging, hasOld) = await ExistAsync(connection, live, stagingName, oldName, cancellationToken).ConfigureAwait(false);
        if (!hasStaging) return; // already swapped in
        if (hasLive && hasOld)
            throw new BackupException(BackupErrorKind.Database, $"Cannot swap databases: both {live} and {oldName} exist. Inspect them by hand before retrying.");
        if (hasLive) await DisconnectEveryoneAsync(connection, live, cancellationToken).ConfigureAwait(false);
        try
        {
            // Both renames commit together: there is never a moment without a database named live.
            await RenameInOneTransactionAsync(connection, cancellationToken, hasLive ? (live, oldName) : null, (stagingName, live)).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            if (hasLive) await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(live)} WITH ALLOW_CONNECTIONS true", CancellationToken.None).ConfigureAwait(false);
            throw new BackupException(BackupErrorKind.Database,
                $"Swapping in the restored database was refused by the server and rolled back, so {live} is unchanged and open again ({e.MessageText}).", e);
        }
        NpgsqlConnection.ClearAllPools();
    }

    public async Task SwapBackAsync(string stagingName, string oldName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var live = target.Database;
        var (hasLive, hasStaging, hasOld) = await ExistAsync(connection, live, stagingName, oldName, cancellationToken).ConfigureAwait(false);
        if (hasLive && hasOld && !hasStaging)
        {
            await DisconnectEveryoneAsync(connection, live, cancellationToken).ConfigureAwait(false);
            await RenameInOneTransactionAsync(connection, cancellationToken, (live, stagingName), (oldName, live)).ConfigureAwait(false);
        }
        else if (!hasLive && hasOld)
            await RenameInOneTransactionAsync(connection, cancellationToken, (oldName, live)).ConfigureAwait(false);
        if (hasLive || hasOld)
            await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(live)} WITH ALLOW_CONNECTIONS true", cancellationToken).ConfigureAwait(false);
        NpgsqlConnection.ClearAllPools();
    }

    public async Task<IReadOnlySet<string>> WhichExistAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = ANY(@names)", connection);
        command.Parameters.AddWithValue("names", names.ToArray());
        var found = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(reader.GetString(0));
        return found;
    }

    /// <summary>Renames databases in one transaction (ALTER DATABASE … RENAME may run inside one): all or none.</summary>
    private static async Task RenameInOneTransactionAsync(NpgsqlConnection connection, CancellationToken cancellationToken, params (string From, string To)?[] renames)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var rename in renames)
            if (rename is var (from, to))
                await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(from)} RENAME TO {QuoteIdentifier(to)}", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> AllowConnectionsIfExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var (exists, _, _) = await ExistAsync(connection, name, name, name, cancellationToken).ConfigureAwait(false);
        if (exists) await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(name)} WITH ALLOW_CONNECTIONS true", cancellationToken).ConfigureAwait(false);
        return exists;
    }

    public async Task DropIfExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
    }

    private async Task<NpgsqlConnection> OpenMaintenanceAsync(CancellationToken cancellationToken)
    {
        if (options.MaintenanceDatabase == target.Database)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"Backup__MaintenanceDatabase is the database being restored ({target.Database}); set it to another database on the same server, such as postgres.");
        return await OpenAsync(target, target.ConnectionStringFor(options.MaintenanceDatabase), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocks new sessions and ends the open ones so the database can be renamed (the app's pool reconnects after).</summary>
    private static async Task DisconnectEveryoneAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"ALTER DATABASE {QuoteIdentifier(database)} WITH ALLOW_CONNECTIONS false", cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await using var terminate = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", connection);
            terminate.Parameters.AddWithValue("name", database);
            if ((long)(await terminate.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0) return;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(bool Live, bool Staging, bool Old)> ExistAsync(NpgsqlConnection connection, string live, string staging, string old, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = ANY(@names)", connection);
        command.Parameters.AddWithValue("names", new[] { live, staging, old });
        var found = new HashSet<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(reader.GetString(0));
        return (found.Contains(live), found.Contains(staging), found.Contains(old));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
