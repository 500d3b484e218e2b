using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>
/// Restores with parallel <c>pg_restore --jobs</c> into a staging database, then swaps it in by
/// <c>ALTER DATABASE … RENAME</c>. The result is exactly the backup's database — tables created after the backup do
/// not survive, unlike <c>pg_restore --clean</c>. Needs a role that owns the database and may create databases.
/// </summary>
public sealed partial class PgRestoreRunner(PostgresTarget target, BackupOptions options,
    ExternalProcessRunner runner) : IDatabaseRestorer
{
    public string DatabaseName => target.Database;

    public async Task<IReadOnlyList<string>> PrepareAsync(string stagingName, ManifestDatabase recorded, bool foreign,
        Func<Stream, CancellationToken, Task> writeDump,
        CancellationToken cancellationToken, bool createMissingRoles = true)
    {
        var warnings = new List<string>();
        var login = new ArchiveSqlLogin(target, options);
        bool superuser;
        string stagingOwner, restorer;
        DatabaseState? appliedState = null;
        // The archive's SQL logs in as a role that is not and cannot become a superuser: checked before anything
        // changes.
        restorer = await login.CheckAsync(options.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
        await using (var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false))
        {
            superuser = await ScalarAsync<bool>(connection,
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false);
            // Archives of format 1 recorded no state: keep the live database's encoding, locale and owner.
            var state = recorded.State ?? await LiveStateAsync(connection, cancellationToken).ConfigureAwait(false);
            // A foreign archive does not choose who owns the clinic's database (it could name any role): the live owner
            // stays.
            if (foreign && recorded.State is not null && await LiveStateAsync(connection,
                cancellationToken).ConfigureAwait(false) is { } live)
                state = state! with { Owner = live.Owner };
            appliedState = recorded.State is null ? null : state;
            // The owner is given only to a role the restoring login may act as (never a superuser's, see above).
            stagingOwner = state is not null && await IsMemberAsync(connection, restorer, state.Owner,
                cancellationToken).ConfigureAwait(false)
                ? state.Owner : restorer;
            if (state is not null && stagingOwner != state.Owner)
                warnings.Add($"The backup's database was owned by {state.Owner}; the restored one is owned by "
                    + $"{restorer}, the role the restore logs in as, "
                    + $"because the archive's SQL never runs as a superuser or as a role {restorer} may not act as. "
                        + $"As a superuser, run: ALTER DATABASE {QuoteIdentifier(target.Database)} OWNER TO "
                        + $"{QuoteIdentifier(state.Owner)};");
            var create = $"CREATE DATABASE {QuoteIdentifier(stagingName)}" + (state?.CreateOptions()
                ?? " TEMPLATE template0") + $" OWNER {QuoteIdentifier(stagingOwner)}";
            // Then the roles (after every refusal, so a refused restore creates none): the dump's grants and owners
            // name them.
            if (recorded.Roles is { } roles && await RequiredRoles.EnsureAsync(connection, roles, cancellationToken,
                createMissingRoles).ConfigureAwait(false) is { } created)
                warnings.Add(created);
            await DropDatabaseAsync(connection, stagingName, cancellationToken).ConfigureAwait(false);
            try { await ExecuteAsync(connection, create, cancellationToken).ConfigureAwait(false); }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new BackupException(BackupErrorKind.Database,
                    $"The database role '{target.Username}' may not create databases, which a restore needs for its "
                        + $"staging copy ({e.MessageText}). " +
                    $"Grant it with: ALTER ROLE {QuoteIdentifier(target.Username ?? "")} CREATEDB;", e);
            }
            catch (PostgresException e)
            {
                throw new BackupException(BackupErrorKind.Database,
                    $"The staging database could not be created as the backup's database was ({e.MessageText}). If a "
                        + $"locale is missing, install it on the database server (locale-gen, or the ICU library) and "
                        + $"restore again.", e);
            }
        }

        var actAs = stagingOwner == restorer ? null : stagingOwner;
        await RestoreDumpAsync(login, stagingName, actAs, writeDump, cancellationToken).ConfigureAwait(false);
        if (appliedState is not null)
            warnings.AddRange(await new DatabaseStateApplier(target, login, superuser ? OpenMaintenanceAsync : null)
                .ApplyAsync(appliedState, stagingName, actAs, cancellationToken).ConfigureAwait(false));
        return warnings;
    }

    /// <summary>Whether <paramref name="role"/> may act as <paramref name="of"/> (SET ROLE); a role may act as
    /// itself.</summary>
    private static async Task<bool> IsMemberAsync(NpgsqlConnection connection, string role, string of,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT coalesce((SELECT pg_has_role(@role, o.oid, 'MEMBER') FROM pg_roles o WHERE o.rolname = @of), "
                + "false)", connection);
        command.Parameters.AddWithValue("role", role);
        command.Parameters.AddWithValue("of", of);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<DatabaseState?> LiveStateAsync(NpgsqlConnection maintenance, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name AND datallowconn",
            maintenance))
        {
            exists.Parameters.AddWithValue("name", target.Database);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null) return null;
        }
        await using var live = await OpenAsync(target, target.ConnectionStringFor(target.Database),
            cancellationToken).ConfigureAwait(false);
        var state = await DatabaseState.ReadAsync(live, cancellationToken).ConfigureAwait(false);
        return new DatabaseState { Owner = state.Owner, Encoding = state.Encoding,
            LocaleProvider = state.LocaleProvider, Collate = state.Collate, Ctype = state.Ctype,
            IcuLocale = state.IcuLocale };
    }

    /// <summary>pg_restore over the archive login (checked again against the staging database); <paramref
    /// name="restoreAs"/>: SET ROLE first.</summary>
    private async Task RestoreDumpAsync(ArchiveSqlLogin login, string stagingName, string? restoreAs, Func<Stream,
        CancellationToken, Task> writeDump,
        CancellationToken cancellationToken)
    {
        var restorer = login.Target;
        var jobs = options.EffectiveRestoreJobs;
        // pg_restore runs parallel jobs only from a file; one job reads the dump straight from the archive.
        // A full path: pg_restore must never read a relative name that starts with "-" as an option.
        var dumpPath = jobs > 1 ? Path.Combine(Path.GetFullPath(options.Directory),
            $".backup-restore.tmp-{Guid.NewGuid():N}.dump") : null;
        try
        {
            await login.CheckAsync(stagingName, cancellationToken).ConfigureAwait(false);
            var arguments = restorer.LibpqArguments(stagingName);
            arguments.Add("--exit-on-error");
            // Parallel jobs rule out --single-transaction, and need none: a failed restore only ever leaves the staging
            // database, which is dropped below; the live one is replaced only after this succeeded.
            arguments.Add(dumpPath is null ? "--single-transaction" : "--jobs=" + jobs);
            // Never as a superuser, so the original owners cannot be set: the restoring role (or the owner it acts as)
            // owns everything.
            arguments.Add("--no-owner");
            if (restoreAs is not null) arguments.Add("--role=" + restoreAs);
            if (dumpPath is not null)
            {
                // The caller's stream is verified as it is written, so the dump is checked whole before pg_restore
                // reads it.
                await using (var dumpFile = new FileStream(dumpPath,
                    IO.PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 1 << 20)))
                    await writeDump(dumpFile, cancellationToken).ConfigureAwait(false);
                arguments.Add(dumpPath);
            }
            var result = await runner.RunAsync(new ExternalProcessRequest(Locate("pg_restore", options.PgBinDirectory),
                arguments)
            {
                Environment = restorer.LibpqEnvironment(),
                Timeout = options.CommandTimeout,
                WriteStandardInput = dumpPath is null ? writeDump : null,
            }, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0) throw Failure("pg_restore", result, restorer);
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

    public async Task<IReadOnlySet<string>> WhichExistAsync(IReadOnlyList<string> names,
        CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = ANY(@names)",
            connection);
        command.Parameters.AddWithValue("names", names.ToArray());
        var found = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(reader.GetString(0));
        return found;
    }

    public async Task<bool> AllowConnectionsIfExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        var (exists, _, _) = await ExistAsync(connection, name, name, name, cancellationToken).ConfigureAwait(false);
        if (exists) await ExecuteAsync(connection,
            $"ALTER DATABASE {QuoteIdentifier(name)} WITH ALLOW_CONNECTIONS true",
            cancellationToken).ConfigureAwait(false);
        return exists;
    }

    public async Task DropIfExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        await DropDatabaseAsync(connection, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops <paramref name="name"/> if it exists, ending the sessions in it. WITH (FORCE) refuses a role that is not a
    /// superuser while one of the server's autovacuum workers is in the database (42501), as one is soon after a
    /// restore; then the role's own sessions are ended and a plain DROP, which has those workers stop by themselves.
    /// </summary>
    private static async Task DropDatabaseAsync(NpgsqlConnection connection, string name,
        CancellationToken cancellationToken)
    {
        var drop = $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)}";
        try { await ExecuteAsync(connection, drop + " WITH (FORCE)", cancellationToken).ConfigureAwait(false); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            await DisconnectEveryoneAsync(connection, name, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, drop, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<NpgsqlConnection> OpenMaintenanceAsync(CancellationToken cancellationToken)
    {
        if (options.MaintenanceDatabase == target.Database)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"Backup__MaintenanceDatabase is the database being restored ({target.Database}); set it to another "
                    + $"database on the same server, such as postgres.");
        return await OpenAsync(target, target.ConnectionStringFor(options.MaintenanceDatabase),
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
