using System.Globalization;
using System.Text;
using BackupManager.Core.Database;
using BackupManager.Core.IO;
using Npgsql;

namespace BackupManager.Core.Pitr;

/// <summary>
/// A temporary PostgreSQL server recovered from a base backup to a point in time: a private copy of the base backup
/// and of the WAL it needs, <c>recovery.signal</c>, <c>restore_command</c> (a segment, else its <c>.partial</c>),
/// <c>recovery_target_time</c> with <c>promote</c>, listening only on its own socket folder (no TCP; the free port
/// only names the socket), run by the server binaries of the backup's major version as a non-root user. Disposing
/// stops it and removes every copy.
/// </summary>
internal sealed class RecoveryInstance : IAsyncDisposable
{
    private const string TargetNotReached = "recovery ended before configured recovery target was reached";
    private readonly ServerAccount _account;
    private readonly ExternalProcessRunner _runner;
    private readonly string _folder, _data, _bin;

    private RecoveryInstance(ServerAccount account, ExternalProcessRunner runner, string folder, string bin)
    {
        _account = account;
        _runner = runner;
        _folder = folder;
        _data = Path.Combine(folder, "data");
        _bin = bin;
        Socket = Path.Combine(folder, "socket");
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        Port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    public string Socket { get; }
    public int Port { get; }

    /// <summary>Prepares the copy (no server yet). The folder lives where the server's user may enter it.</summary>
    public static RecoveryInstance Prepare(PitrLayout layout, PitrWindow window, BaseBackupRecord chosen,
        ExternalProcessRunner runner)
    {
        var account = ServerAccount.Current();
        var parent = account.RunAs is null ? layout.Root : account.Home;
        StopLeftovers(parent, layout, account, runner);
        var major = File.ReadAllText(Path.Combine(chosen.Folder, "PG_VERSION")).Trim();
        var bin = $"/usr/lib/postgresql/{major}/bin";
        if (!File.Exists(Path.Combine(bin, "postgres")))
            throw new BackupException(BackupErrorKind.Environment,
                $"The base backup {chosen.Name} is from PostgreSQL {major}, whose server programs are not installed "
                + $"here ({bin}/postgres). Install them (apt-get install postgresql-{major}); nothing was changed.");
        var folder = Path.Combine(parent, $"{Prefix(layout)}{Guid.NewGuid().ToString("N")[..8]}");
        PrivateFiles.CreateFolder(folder);
        var instance = new RecoveryInstance(account, runner, folder, bin);
        try
        {
            instance.Copy(window, chosen);
            return instance;
        }
        catch
        {
            BaseBackup.TryDeleteFolder(folder);
            throw;
        }
    }

    private static string Prefix(PitrLayout layout) => $"backupmanager-recovery-{layout.SlotName}-";

    private void Copy(PitrWindow window, BaseBackupRecord chosen)
    {
        CopyTree(chosen.Folder, _data, skip: [PitrLayout.RecordFileName, "backup_manifest"]);
        var wal = Path.Combine(_folder, "wal");
        PrivateFiles.CreateFolder(wal);
        var start = WalSegment.NumberOf(chosen.StartLsn, chosen.WalSegmentBytes);
        foreach (var segment in window.Wal.Where(s => s.Timeline == chosen.Timeline && s.Number >= start))
            CopySegment(segment, wal);
        PrivateFiles.CreateFolder(Socket);
        if (wal.IndexOfAny(['"', '$', '`', '\\', '\'']) >= 0)
            throw new BackupException(BackupErrorKind.Environment,
                $"The recovery folder {_folder} has a quote, $ or backslash in its path; move Backup__Directory.");
        File.WriteAllText(Path.Combine(_folder, "pg_hba.conf"), "local all all trust\n");
        File.WriteAllText(Path.Combine(_folder, "pg_ident.conf"), "");
        var conf = Path.Combine(_data, "postgresql.conf");
        if (!File.Exists(conf)) File.WriteAllText(conf, ""); // Debian keeps it in /etc: the server needs one here
        File.WriteAllText(Path.Combine(_data, "recovery.signal"), "");
        PrivateFiles.Tighten(_folder);
        _account.Own(_folder);
    }

    /// <summary>Copies one segment; the receiver may complete a <c>.partial</c> one (renaming it) while we copy, and
    /// then the completed file is taken.</summary>
    private static void CopySegment(WalSegment segment, string wal)
    {
        try { File.Copy(segment.Path, Path.Combine(wal, Path.GetFileName(segment.Path))); }
        catch (FileNotFoundException) when (segment.Partial)
        {
            var completed = segment.Path[..^".partial".Length];
            File.Copy(completed, Path.Combine(wal, Path.GetFileName(completed)));
        }
    }

    /// <summary>Settings after the copied ones (the last wins): only our socket and port, our WAL, the
    /// target.</summary>
    private void WriteSettings(DateTimeOffset? target, string? targetLsn = null)
    {
        var wal = Path.Combine(_folder, "wal");
        var lines = new StringBuilder("\n# BackupManager point-in-time restore\n");
        void Set(string name, string value) =>
            lines.Append(name).Append(" = '").Append(value.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
        Set("restore_command", $"cp \"{wal}/%f\" \"%p\" 2>/dev/null || cp \"{wal}/%f.partial\" \"%p\"");
        if (target is { } time)
            Set("recovery_target_time", time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'",
                CultureInfo.InvariantCulture));
        if (targetLsn is not null)
        {
            Set("recovery_target_lsn", targetLsn);
            Set("recovery_target_inclusive", "off"); // stop before the first record at the LSN: only what preceded it
        }
        Set("recovery_target_action", "promote");
        Set("listen_addresses", ""); // the private socket only: no TCP port at all
        Set("port", Port.ToString(CultureInfo.InvariantCulture));
        Set("unix_socket_directories", Socket);
        Set("hba_file", Path.Combine(_folder, "pg_hba.conf"));
        Set("ident_file", Path.Combine(_folder, "pg_ident.conf"));
        // No hot standby: it would demand the source's max_connections; connections wait for the promotion.
        foreach (var (name, value) in (ReadOnlySpan<(string, string)>)[("hot_standby", "off"),
            ("archive_mode", "off"), ("ssl", "off"), ("logging_collector", "off"),
            ("synchronous_standby_names", ""), ("external_pid_file", "")])
            Set(name, value);
        var auto = Path.Combine(_data, "postgresql.auto.conf");
        var original = Path.Combine(_folder, "postgresql.auto.conf.original");
        if (!File.Exists(original)) File.Copy(auto, original);
        File.WriteAllText(auto, File.ReadAllText(original) + lines);
        _account.Own(auto);
    }

    /// <summary>Starts the server and waits until it has reached <paramref name="target"/> and promoted. When the WAL
    /// holds no commit after the target, everything it holds is before it: recovery is run to its end
    /// instead.</summary>
    public Task RecoverAsync(DateTimeOffset target, string user, TimeSpan timeout, CancellationToken token) =>
        RecoverAsync(target, null, user, timeout, token);

    /// <summary>As the time target, to just before WAL position <paramref name="lsn"/> (e.g. a dump's snapshot); the
    /// WAL must reach it (see <see cref="PitrLsn.Covers"/>).</summary>
    public Task RecoverToLsnAsync(string lsn, string user, TimeSpan timeout, CancellationToken token) =>
        RecoverAsync(null, lsn, user, timeout, token);

    private async Task RecoverAsync(DateTimeOffset? target, string? lsn, string user, TimeSpan timeout,
        CancellationToken token)
    {
        WriteSettings(target, lsn);
        await StartAsync(token).ConfigureAwait(false);
        var log = await WaitForPromotionAsync(user, timeout, token).ConfigureAwait(false);
        if (log is null) return;
        if (!log.Contains(TargetNotReached, StringComparison.Ordinal))
            throw new BackupException(BackupErrorKind.Database,
                $"The temporary PostgreSQL server stopped during recovery; nothing was changed. Its log ends: {log}");
        WriteSettings(null);
        await StartAsync(token).ConfigureAwait(false);
        log = await WaitForPromotionAsync(user, timeout, token).ConfigureAwait(false);
        if (log is not null)
            throw new BackupException(BackupErrorKind.Database,
                $"The temporary PostgreSQL server stopped during recovery; nothing was changed. Its log ends: {log}");
    }

    /// <summary>A connection string for the recovered server's <paramref name="database"/>.</summary>
    public string ConnectionString(string user, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Socket, Port = Port, Username = user, Database = database, Pooling = false, Timeout = 5,
    }.ConnectionString;

    private async Task StartAsync(CancellationToken token)
    {
        var (file, arguments) = _account.Command(Path.Combine(_bin, "pg_ctl"),
            ["-D", _data, "-l", Path.Combine(_folder, "server.log"), "-W", "start"]);
        var result = await _runner.RunAsync(new ExternalProcessRequest(file, arguments)
            { Timeout = TimeSpan.FromMinutes(1) }, token).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new BackupException(BackupErrorKind.Environment,
                $"The temporary PostgreSQL server did not start ({result.StandardError.Trim()}); nothing was changed.");
    }

    /// <summary>Null once promoted; the log's tail when the server stopped first.</summary>
    private async Task<string?> WaitForPromotionAsync(string user, TimeSpan timeout, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pidFile = Path.Combine(_data, "postmaster.pid");
        await Task.Delay(200, token).ConfigureAwait(false);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString(user, "postgres"));
                await connection.OpenAsync(token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
                if (!(bool)(await command.ExecuteScalarAsync(token).ConfigureAwait(false))!) return null;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or System.Net.Sockets.SocketException)
            {
                if (!File.Exists(pidFile)) return LogTail();
            }
            await Task.Delay(250, token).ConfigureAwait(false);
        }
        throw new BackupException(BackupErrorKind.Cancelled,
            $"Recovery did not finish within {timeout} (Backup__CommandTimeout); nothing was changed.");
    }

    private string LogTail()
    {
        var log = Path.Combine(_folder, "server.log");
        var text = File.Exists(log) ? File.ReadAllText(log) : "(no log)";
        return text.Length > 4000 ? text[^4000..] : text;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_folder, _account, _runner, _bin).ConfigureAwait(false);
        BaseBackup.TryDeleteFolder(_folder);
    }

    private static async Task StopAsync(string folder, ServerAccount account, ExternalProcessRunner runner, string bin)
    {
        var data = Path.Combine(folder, "data");
        if (!File.Exists(Path.Combine(data, "postmaster.pid"))) return;
        var (file, arguments) = account.Command(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
        try
        {
            await runner.RunAsync(new ExternalProcessRequest(file, arguments) { Timeout = TimeSpan.FromMinutes(1) },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (BackupException) { /* the folder is removed anyway; a stray server dies with its files */ }
    }

    /// <summary>
    /// Stops and removes what a killed point-in-time restore of this installation left behind: a temporary server
    /// (it outlives a kill -9 of the app) and its copy of the database. The caller holds the operation lock, so no
    /// restore of this installation is running. Returns how many copies went.
    /// </summary>
    public static int RemoveLeftovers(PitrLayout layout, ExternalProcessRunner runner)
    {
        var account = ServerAccount.TryCurrent();
        if (account is null) return 0; // no postgres user: no temporary server can ever have run
        return StopLeftovers(account.RunAs is null ? layout.Root : account.Home, layout, account, runner);
    }

    /// <summary>
    /// Removes the staging folders of killed restores from a destination (decrypted base backup and WAL), after
    /// stopping a temporary server started over one. The caller holds the operation lock. Returns how many went.
    /// </summary>
    public static int RemoveStaging(PitrLayout layout, ExternalProcessRunner runner)
    {
        if (!Directory.Exists(layout.Root)) return 0;
        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(layout.Root,
            $"{PitrLayout.TempPrefix}{PitrLayout.OffsiteRestorePurpose}-*"))
        {
            RemoveLeftovers(new PitrLayout(folder), runner); // its server's folder is named after the staged layout
            BaseBackup.TryDeleteFolder(folder);
            removed++;
        }
        return removed;
    }

    private static int StopLeftovers(string parent, PitrLayout layout, ServerAccount account,
        ExternalProcessRunner runner)
    {
        if (!Directory.Exists(parent)) return 0;
        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(parent, Prefix(layout) + "*"))
        {
            var version = Path.Combine(folder, "data", "PG_VERSION");
            var bin = File.Exists(version) ? $"/usr/lib/postgresql/{File.ReadAllText(version).Trim()}/bin" : "";
            if (bin.Length > 0) StopAsync(folder, account, runner, bin).GetAwaiter().GetResult();
            BaseBackup.TryDeleteFolder(folder);
            removed++;
        }
        return removed;
    }

    private static void CopyTree(string from, string to, IReadOnlyCollection<string> skip)
    {
        PrivateFiles.CreateFolder(to);
        foreach (var directory in Directory.EnumerateDirectories(from))
            CopyTree(directory, Path.Combine(to, Path.GetFileName(directory)), []);
        foreach (var file in Directory.EnumerateFiles(from))
            if (!skip.Contains(Path.GetFileName(file))) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
