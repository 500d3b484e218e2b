using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>
/// Where the database to back up lives, parsed once from a connection string. Gives the libpq arguments and
/// environment for pg_dump / pg_restore; the password goes only into the environment.
/// </summary>
public sealed class PostgresTarget
{
    private readonly NpgsqlConnectionStringBuilder _builder;

    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="setting">The setting(s) the connection string comes from, named in errors.</param>
    /// <param name="defaultDatabase">The database when the string names none (a login used for several
    /// databases).</param>
    public PostgresTarget(string connectionString, string setting = "ConnectionStrings__Default or Backup__Database",
        string? defaultDatabase = null)
    {
        Setting = setting;
        try { _builder = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (ArgumentException e)
        {
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"The database connection string is not valid ({e.Message}). Check {setting}.", e);
        }
        if (string.IsNullOrEmpty(_builder.Database) && defaultDatabase is not null) _builder.Database = defaultDatabase;
        if (string.IsNullOrEmpty(_builder.Database))
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"The database connection string names no database. Add Database=<name> to {setting}.");
    }

    public string Database => _builder.Database!;
    /// <summary>The setting(s) this connection string comes from, for messages that say what to fix.</summary>
    public string Setting { get; }
    public string Host => _builder.Host ?? "localhost";
    public int Port => _builder.Port;
    public string? Username => _builder.Username;

    /// <summary>A connection string for the same server but another database (e.g. the maintenance database).</summary>
    public string ConnectionStringFor(string database, bool pooling = false)
    {
        var copy = new NpgsqlConnectionStringBuilder(_builder.ConnectionString) { Database = database,
            Pooling = pooling };
        return copy.ConnectionString;
    }

    public string ConnectionString => _builder.ConnectionString;

    /// <summary>libpq arguments that select the server and user, with <paramref name="database"/> as the
    /// target.</summary>
    public List<string> LibpqArguments(string database)
    {
        var args = new List<string> { "--host", Host, "--port",
            Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (!string.IsNullOrEmpty(Username)) args.AddRange(["--username", Username]);
        args.AddRange(["--dbname", database, "--no-password"]);
        return args;
    }

    /// <summary>Environment for libpq programs: the password and TLS mode, never on the command line.</summary>
    public Dictionary<string, string> LibpqEnvironment()
    {
        var env = new Dictionary<string, string>
        {
            ["PGAPPNAME"] = "BackupManager",
            ["PGCONNECT_TIMEOUT"] = Math.Max(_builder.Timeout,
                5).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrEmpty(_builder.Password)) env["PGPASSWORD"] = _builder.Password;
        env["PGSSLMODE"] = _builder.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        return env;
    }
}
