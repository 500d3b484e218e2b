using BackupManager.Core;

namespace BackupManager.Web.Commands;

/// <summary>The acting user of console commands, recorded in manifests and logs.</summary>
internal static class ConsoleUser
{
    public static string Name => $"console:{Environment.UserName}";

    /// <summary>On a terminal, asks the operator to type <paramref name="expected"/>; without one, requires
    /// --force.</summary>
    public static bool Confirm(string question, string expected, bool force)
    {
        if (force) return true;
        if (Console.IsInputRedirected)
            throw new UsageException($"{question} Standard input is not a terminal, so add --force to confirm.");
        Console.Error.Write($"{question}\nType {expected} to confirm: ");
        return string.Equals(Console.ReadLine()?.Trim(), expected, StringComparison.Ordinal);
    }

    public static BackupScope Scope(CommandLine line)
    {
        if (line.Has("--only-db") && line.Has("--only-files")) throw new UsageException(
            "--only-db and --only-files cannot be combined.");
        return line.Has("--only-db") ? BackupScope.DatabaseOnly : line.Has("--only-files") ? BackupScope.FilesOnly
            : BackupScope.Full;
    }
}
