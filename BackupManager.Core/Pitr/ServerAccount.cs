using System.Globalization;

namespace BackupManager.Core.Pitr;

/// <summary>
/// The operating-system user a temporary PostgreSQL server runs as: postgres refuses root, so a root process runs it
/// as <c>postgres</c> (through <c>runuser</c>), anyone else as themselves.
/// </summary>
internal sealed record ServerAccount(string? RunAs, uint Uid, uint Gid, string Home)
{
    public static ServerAccount Current()
    {
        if (!Environment.IsPrivilegedProcess)
            return new ServerAccount(null, 0, 0, Path.GetTempPath());
        var line = File.Exists("/etc/passwd")
            ? File.ReadLines("/etc/passwd").FirstOrDefault(l => l.StartsWith("postgres:", StringComparison.Ordinal))
            : null;
        if (line is null)
            throw new BackupException(BackupErrorKind.Environment,
                "A point-in-time restore runs a temporary PostgreSQL server, which refuses to run as root, and this "
                + "machine has no 'postgres' user. Install the server package (apt-get install postgresql-15) or "
                + "run BackupManager as a non-root user.");
        var fields = line.Split(':');
        return new ServerAccount("postgres", uint.Parse(fields[2], CultureInfo.InvariantCulture),
            uint.Parse(fields[3], CultureInfo.InvariantCulture), fields[5]);
    }

    /// <summary>Like <see cref="Current"/>, but null where a root process has no <c>postgres</c> user.</summary>
    public static ServerAccount? TryCurrent()
    {
        try { return Current(); }
        catch (BackupException) { return null; }
    }

    /// <summary>The program and arguments that run <paramref name="program"/> as this account.</summary>
    public (string FileName, List<string> Arguments) Command(string program, IEnumerable<string> arguments) =>
        RunAs is null ? (program, arguments.ToList())
            : ("runuser", ["-u", RunAs, "--", program, .. arguments]);

    /// <summary>Hands <paramref name="path"/> and everything below it to this account (as root only).</summary>
    public void Own(string path)
    {
        if (RunAs is null) return;
        IO.NativeFileSystem.SetOwner(path, Uid, Gid);
        if (!Directory.Exists(path)) return;
        foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
            IO.NativeFileSystem.SetOwner(entry, Uid, Gid);
    }
}
