using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>Runs <c>pg_dump -Fc</c> through <see cref="ExternalProcessRunner"/> and streams its output to the caller.</summary>
public sealed class PgDumpRunner(PostgresTarget target, BackupOptions options, ExternalProcessRunner runner) : IDatabaseDumper
{
    public async Task<DatabaseDescription> DescribeAsync(CancellationToken cancellationToken)
    {
        string serverVersion;
        await using (var connection = await PgTools.OpenAsync(target, target.ConnectionStringFor(target.Database), cancellationToken).ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand("SELECT current_setting('server_version')", connection);
            serverVersion = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        var result = await runner.RunAsync(new ExternalProcessRequest(PgTools.Locate("pg_dump", options.PgBinDirectory), ["--version"])
        { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        return new DatabaseDescription(target.Database, serverVersion.Split(' ')[0], PgTools.ParseToolVersion(result.StandardOutput));
    }

    public async Task DumpToFileAsync(string path, CancellationToken cancellationToken)
    {
        var arguments = target.LibpqArguments(target.Database);
        arguments.AddRange(["--format=custom", "--compress=" + options.DumpCompressionLevel]);
        // Through a pipe rather than --file: if this process is killed, pg_dump's next write fails and it exits,
        // instead of living on and recreating a temporary file after the next start has cleaned up.
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var result = await runner.RunAsync(new ExternalProcessRequest(PgTools.Locate("pg_dump", options.PgBinDirectory), arguments)
        {
            Environment = target.LibpqEnvironment(),
            Timeout = options.CommandTimeout,
            ReadStandardOutput = (stdout, token) => stdout.CopyToAsync(output, 1 << 20, token),
        }, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0) throw PgTools.Failure("pg_dump", result, target);
    }
}
