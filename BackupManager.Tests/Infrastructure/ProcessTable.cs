namespace BackupManager.Tests.Infrastructure;

/// <summary>This machine's processes, read from /proc: for tests that prove a child died with its parent or a
/// leftover server was stopped.</summary>
public static class ProcessTable
{
    /// <summary>The pids whose command line (arguments joined by spaces) satisfies <paramref name="match"/>.</summary>
    public static List<int> Matching(Func<string, bool> match)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string commandLine;
            try { commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (match(commandLine)) found.Add(pid);
        }
        return found;
    }
}
