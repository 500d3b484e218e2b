using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>Runs <c>pg_dump -Fc -Z0</c> through <see cref="ExternalProcessRunner"/> and streams its output to the
/// caller.</summary>
public sealed class PgDumpRunner(PostgresTarget target, BackupOptions options,
    ExternalProcessRunner runner) : IDatabaseDumper
{
    public async Task<DatabaseDescription> DescribeAsync(string? fromDatabase, CancellationToken cancellationToken)
    {
        string serverVersion;
        DatabaseState state;
        IReadOnlyList<RoleRecord> roles;
        await using (var connection = await PgTools.OpenAsync(target,
            target.ConnectionStringFor(fromDatabase ?? target.Database), cancellationToken).ConfigureAwait(false))
        {
            await using (var command = new NpgsqlCommand("SELECT current_setting('server_version')", connection))
                serverVersion = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            state = await DatabaseState.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
            roles = await RequiredRoles.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        var result = await runner.RunAsync(new ExternalProcessRequest(PgTools.Locate("pg_dump", options.PgBinDirectory),
            ["--version"])
        { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        return new DatabaseDescription(target.Database, serverVersion.Split(' ')[0],
            PgTools.ParseToolVersion(result.StandardOutput), state, roles);
    }

    public Task DumpAsync(Stream destination, string? fromDatabase, CancellationToken cancellationToken,
        bool lowPriority = false) =>
        DumpSnapshotAsync(destination, fromDatabase, lowPriority, _ => { }, cancellationToken);

    /// <summary>
    /// The snapshot is exported by a REPEATABLE READ transaction of ours that also reads the WAL position in the same
    /// statement, and pg_dump dumps exactly that snapshot (--snapshot); the transaction stays open until pg_dump ends.
    /// The insert position, not the write one: an asynchronous commit is visible before its record is written.
    /// </summary>
    public async Task DumpSnapshotAsync(Stream destination, string? fromDatabase, bool lowPriority,
        Action<string> snapshotLsn,
        CancellationToken cancellationToken)
    {
        var database = fromDatabase ?? target.Database;
        await using var exporter = await PgTools.OpenAsync(target, target.ConnectionStringFor(database),
            cancellationToken).ConfigureAwait(false);
        await using var snapshot = await exporter.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead,
            cancellationToken).ConfigureAwait(false);
        string snapshotId;
        await using (var command = new NpgsqlCommand("SELECT pg_export_snapshot(), (CASE WHEN pg_is_in_recovery() "
            + "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text", exporter, snapshot))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            snapshotId = reader.GetString(0);
            if (!reader.IsDBNull(1)) snapshotLsn(reader.GetString(1));
        }
        var arguments = target.LibpqArguments(database);
        arguments.Add("--snapshot=" + snapshotId);
        // Uncompressed: pg_dump compresses on the one core that also reads from the server; the caller's zlib-ng
        // deflate on another core is three times faster than pg_dump's zlib.
        arguments.AddRange(["--format=custom", "--compress=0"]);
        // --create records the database-level entries too, so `pg_restore --create` by hand brings them back; without
        // --create (this app's restore into a staging database) pg_restore skips them and DatabaseState applies them.
        arguments.Add("--create");
        // Through a pipe rather than --file: if this process is killed, pg_dump's next write fails and it exits,
        // instead of living on and recreating a temporary file after the next start has cleaned up.
        var environment = target.LibpqEnvironment();
        LargeStdoutWrites(environment);
        var result = await runner.RunAsync(new ExternalProcessRequest(PgTools.Locate("pg_dump", options.PgBinDirectory),
            arguments)
        {
            Environment = environment,
            Timeout = options.CommandTimeout,
            ReadStandardOutput = (stdout, token) => stdout.CopyToAsync(destination, 1 << 20, token),
            LowPriority = lowPriority,
        }, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0) throw PgTools.Failure("pg_dump", result, target);
    }

    public IO.ILoadSignal WatchServerLoad() =>
        new ServerActivityProbe(target, options.LowPriorityBusyTransactionsPerSecond);

    /// <summary>Where coreutils keeps the library behind <c>stdbuf</c> (Debian, Ubuntu, Fedora).</summary>
    private static readonly string[] StdbufLibraries = ["/usr/libexec/coreutils/libstdbuf.so",
        "/usr/lib/coreutils/libstdbuf.so"];

    /// <summary>
    /// pg_dump writes its output through stdio in 4 KiB pieces, and every write into the pipe wakes this process:
    /// 213,000 wake-ups for a 874 MB dump. coreutils' stdbuf library (what <c>stdbuf -o</c> preloads) gives pg_dump
    /// a 1 MiB stdout buffer instead. Best effort: without the library pg_dump runs as it is.
    /// </summary>
    internal static void LargeStdoutWrites(IDictionary<string, string> environment)
    {
        if (!OperatingSystem.IsLinux() || StdbufLibraries.FirstOrDefault(File.Exists) is not { } library) return;
        var inherited = Environment.GetEnvironmentVariable("LD_PRELOAD");
        environment["LD_PRELOAD"] = string.IsNullOrEmpty(inherited) ? library : $"{inherited}:{library}";
        environment["_STDBUF_O"] = (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
