using System.Globalization;
using BackupManager.Core.Database;

namespace BackupManager.Core.Pitr;

/// <summary>
/// The server WAL and base backups come from: <c>Backup__Pitr__Connection</c> or, when unset, the backed-up
/// database's connection. Gives the libpq arguments of the replication programs (password only in the
/// environment).
/// </summary>
public sealed class PitrSource
{
    public PitrSource(BackupOptions options, string? databaseConnectionString)
    {
        Options = options;
        Layout = new PitrLayout(options.Directory);
        var specific = options.Pitr.Connection;
        var connection = string.IsNullOrWhiteSpace(specific) ? databaseConnectionString : specific;
        if (!string.IsNullOrWhiteSpace(connection))
            Target = new PostgresTarget(connection, string.IsNullOrWhiteSpace(specific)
                ? "Backup__Pitr__Connection (unset: ConnectionStrings__Default or Backup__Database)"
                : "Backup__Pitr__Connection", defaultDatabase: "postgres");
    }

    /// <summary>The same server with WAL and base backups read from <paramref name="layout"/> (a staging folder
    /// filled from an off-site destination).</summary>
    public PitrSource(BackupOptions options, string? databaseConnectionString, PitrLayout layout)
        : this(options, databaseConnectionString) => Layout = layout;

    public BackupOptions Options { get; }
    public PitrLayout Layout { get; }
    /// <summary>Null when no database is configured at all.</summary>
    public PostgresTarget? Target { get; }

    public PostgresTarget RequireTarget() => Target ?? throw new BackupException(BackupErrorKind.InvalidInput,
        "No database is configured for point-in-time recovery. Set Backup__Pitr__Connection (a role with "
        + "REPLICATION) or ConnectionStrings__Default.");

    /// <summary>Host, port and user for pg_receivewal / pg_basebackup, never the password.</summary>
    public List<string> ReplicationArguments()
    {
        var target = RequireTarget();
        var args = new List<string> { "--host", target.Host, "--port",
            target.Port.ToString(CultureInfo.InvariantCulture) };
        if (!string.IsNullOrEmpty(target.Username)) args.AddRange(["--username", target.Username]);
        args.Add("--no-password");
        return args;
    }

    public Dictionary<string, string> Environment()
    {
        var env = RequireTarget().LibpqEnvironment();
        env["PGAPPNAME"] = Layout.SlotName; // pg_stat_replication shows which installation streams
        return env;
    }

    public string Tool(string name) => PgTools.Locate(name, Options.PgBinDirectory);
}
