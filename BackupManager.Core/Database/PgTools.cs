using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>Finds the PostgreSQL client programs and turns their failures into messages an administrator can act
/// on.</summary>
public static partial class PgTools
{
    /// <summary>
    /// The configured folder wins; otherwise the newest client under /usr/lib/postgresql (Debian keeps one folder per
    /// major version, and a newer pg_dump can dump any older server); otherwise the program on PATH.
    /// </summary>
    public static string Locate(string tool, string? configuredBinDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configuredBinDirectory)) return Path.Combine(configuredBinDirectory, tool);
        const string debianRoot = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(debianRoot))
        {
            var newest = System.IO.Directory.EnumerateDirectories(debianRoot)
                .Select(dir => (dir,
                    version: int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture,
                    out var v) ? v : -1))
                .Where(x => x.version > 0 && File.Exists(Path.Combine(x.dir, "bin", tool)))
                .OrderByDescending(x => x.version)
                .FirstOrDefault();
            if (newest.dir is not null) return Path.Combine(newest.dir, "bin", tool);
        }
        return tool;
    }

    /// <summary>Turns a failed pg_dump / pg_restore run into a <see cref="BackupException"/> that keeps its
    /// stderr.</summary>
    public static BackupException Failure(string tool, ExternalProcessResult result, PostgresTarget target)
    {
        var stderr = result.StandardError.Trim();
        var mismatch = VersionMismatch().Match(stderr);
        if (mismatch.Success)
        {
            var server = mismatch.Groups["server"].Value;
            var major = server.Split('.')[0];
            return new BackupException(BackupErrorKind.Environment,
                $"The database server runs PostgreSQL {server} but {tool} is version " +
                $"{mismatch.Groups["tool"].Value}; " +
                $"{tool} must be at least as new as the server. " +
                $"Install postgresql-client-{major} (apt-get install postgresql-client-{major}) or set "
                    + $"Backup__PgBinDirectory=/usr/lib/postgresql/{major}/bin.");
        }
        if (stderr.Contains("password authentication failed", StringComparison.OrdinalIgnoreCase)
            || stderr.Contains("no password supplied", StringComparison.OrdinalIgnoreCase))
            return AuthenticationFailure(target, tool);
        if (stderr.Contains("No space left on device", StringComparison.OrdinalIgnoreCase))
            return new BackupException(BackupErrorKind.Environment,
                $"{tool} stopped because a disk is full. Free space on the database server and in the backup folder, "
                    + $"then try again. Details: {stderr}");
        if (stderr.Contains("Connection refused",
            StringComparison.OrdinalIgnoreCase) || stderr.Contains("could not connect",
            StringComparison.OrdinalIgnoreCase))
            return new BackupException(BackupErrorKind.Database,
                $"{tool} could not reach the database server at {target.Host}:{target.Port}. Check that PostgreSQL is "
                    + $"running and the connection string is right. Details: {stderr}");
        return new BackupException(BackupErrorKind.Database,
            $"{tool} failed with exit code {result.ExitCode}: {(stderr.Length > 0 ? stderr : "(no error output)")}");
    }

    public static BackupException AuthenticationFailure(PostgresTarget target, string who) =>
        new(BackupErrorKind.Database,
            $"The database server at {target.Host}:{target.Port} refused the login of user '{target.Username}' for "
                + $"{who} (wrong or missing password). " +
            $"Fix the password in {target.Setting}.");

    /// <summary>Opens a connection and translates the usual failures (login, unreachable server, missing
    /// database).</summary>
    public static async Task<NpgsqlConnection> OpenAsync(PostgresTarget target, string connectionString,
        CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (PostgresException e) when (
            e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw AuthenticationFailure(target, "the backup engine");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new BackupException(BackupErrorKind.Database,
                $"The database server has no database named in the connection string ({e.MessageText}). Check "
                    + $"{target.Setting}.", e);
        }
        catch (NpgsqlException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new BackupException(BackupErrorKind.Database,
                $"Could not connect to the database server at {target.Host}:{target.Port} ({e.Message}). Check that "
                    + $"PostgreSQL is running and the connection string is right.", e);
        }
    }

    /// <summary>"pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" gives "15.18".</summary>
    public static string ParseToolVersion(string versionOutput)
    {
        var match = ToolVersion().Match(versionOutput);
        return match.Success ? match.Groups[1].Value : versionOutput.Trim();
    }

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"",
        StringComparison.Ordinal) + "\"";

    public static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"server version:\s*(?<server>[0-9.]+)[^;]*;\s*\S+ version:\s*(?<tool>[0-9.]+)")]
    private static partial Regex VersionMismatch();

    [GeneratedRegex(@"\(PostgreSQL\)\s+([0-9]+(?:\.[0-9]+)*)")]
    private static partial Regex ToolVersion();
}
