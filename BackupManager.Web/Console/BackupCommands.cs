using System.Text.Json;
using BackupManager.Core;

namespace BackupManager.Web.Console;

/// <summary>The acting user of console commands, recorded in manifests and logs.</summary>
internal static class ConsoleUser
{
    public static string Name => $"console:{Environment.UserName}";

    /// <summary>On a terminal, asks the operator to type <paramref name="expected"/>; without one, requires --force.</summary>
    public static bool Confirm(string question, string expected, bool force)
    {
        if (force) return true;
        if (System.Console.IsInputRedirected)
            throw new UsageException($"{question} Standard input is not a terminal, so add --force to confirm.");
        System.Console.Error.Write($"{question}\nType {expected} to confirm: ");
        return string.Equals(System.Console.ReadLine()?.Trim(), expected, StringComparison.Ordinal);
    }

    public static BackupScope Scope(CommandLine line)
    {
        if (line.Has("--only-db") && line.Has("--only-files")) throw new UsageException("--only-db and --only-files cannot be combined.");
        return line.Has("--only-db") ? BackupScope.DatabaseOnly : line.Has("--only-files") ? BackupScope.FilesOnly : BackupScope.Full;
    }
}

public sealed class CreateBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "create-backup";
    public string Usage => "[--only-db|--only-files]";
    public string Summary => "Makes a backup now and prints its filename.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files"]);
        if (line.Positional.Count > 0) throw new UsageException("create-backup takes no filename.");
        var progress = new TerminalProgress();
        var created = await backups.CreateAsync(new CreateBackupRequest(ConsoleUser.Scope(line), BackupTrigger.Manual, ConsoleUser.Name), progress, cancellationToken);
        progress.Done();
        System.Console.WriteLine(created.Filename);
        if (created.WarningCount > 0) System.Console.Error.WriteLine($"{created.WarningCount} warning(s); see the log or the manifest.");
        return ExitCodes.Success;
    }
}

public sealed class RestoreBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "restore-backup";
    public string Usage => "<filename> [--only-db|--only-files] [--force] [--allow-foreign]";
    public string Summary => "Verifies a backup, replaces the database and/or files with the backup's, then archives the replaced state as a safety backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files", "--force", "--allow-foreign"]);
        var filename = line.SinglePositional("backup filename");
        var scope = ConsoleUser.Scope(line);
        backups.GetArchivePath(filename);
        var what = scope switch { BackupScope.DatabaseOnly => "the database", BackupScope.FilesOnly => "the files", _ => "the database and the files" };
        if (!ConsoleUser.Confirm($"This replaces {what} with the contents of {filename} (the current state is kept and archived as a safety backup).", filename, line.Has("--force")))
        {
            System.Console.Error.WriteLine("Not confirmed; nothing was changed.");
            return ExitCodes.Failure;
        }
        var progress = new TerminalProgress();
        var result = await backups.RestoreAsync(new RestoreBackupRequest(filename, scope, ConsoleUser.Name, line.Has("--allow-foreign")), progress, cancellationToken);
        progress.Done();
        System.Console.Error.WriteLine($"Restored {result.Filename}" +
            (result.RestoredDatabase ? "; database replaced" : "") +
            (result.RestoredFolders.Count > 0 ? $"; folders replaced: {string.Join(", ", result.RestoredFolders)}" : "") +
            (result.SafetyBackup is null ? "." : $". Safety backup of the previous state: {result.SafetyBackup}."));
        foreach (var warning in result.Warnings) System.Console.Error.WriteLine($"Warning: {warning}");
        return ExitCodes.Success;
    }
}

public sealed class ListBackupsCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "list-backups";
    public string Usage => "[--json]";
    public string Summary => "Lists the backups in the backup folder, newest first.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        var list = await backups.ListAsync(cancellationToken);
        if (line.Has("--json"))
        {
            var rows = list.Select(b => new
            {
                filename = b.Filename,
                size = b.Size,
                created_at = b.CreatedAt.UtcDateTime,
                trigger = b.Trigger.ToName(),
                contains = b.Contains,
                requested_by = b.RequestedBy,
                pinned = b.Pinned,
                readable = b.Readable,
                foreign = b.Foreign,
            });
            System.Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }
        if (list.Count == 0)
        {
            System.Console.Error.WriteLine("No backups yet. Make one with app:create-backup.");
            return ExitCodes.Success;
        }
        System.Console.WriteLine($"{"FILENAME",-31} {"SIZE",10} {"CREATED (UTC)",-20} {"TRIGGER",-12} CONTAINS");
        foreach (var b in list)
            System.Console.WriteLine($"{b.Filename,-31} {Sizes.Human(b.Size),10} {b.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} {b.Trigger.ToName(),-12} " +
                $"{(b.Readable ? string.Join("+", b.Contains) : "UNREADABLE")}{(b.Pinned ? " (pinned)" : "")}{(b.Foreign ? " FOREIGN (not made here)" : "")}");
        return ExitCodes.Success;
    }
}

public sealed class VerifyBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "verify-backup";
    public string Usage => "<filename>";
    public string Summary => "Re-reads a backup and checks every entry's SHA-256 and the zip structure.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var filename = new CommandLine(arguments, []).SinglePositional("backup filename");
        var progress = new TerminalProgress();
        var report = await backups.VerifyAsync(filename, progress, cancellationToken);
        progress.Done();
        System.Console.WriteLine($"{report.Filename}: OK ({report.Entries} entries, {Sizes.Human(report.Bytes)} checked)");
        return ExitCodes.Success;
    }
}

public sealed class DeleteBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "delete-backup";
    public string Usage => "<filename> [--force]";
    public string Summary => "Deletes one backup (asks for confirmation on a terminal).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--force"]);
        var filename = line.SinglePositional("backup filename");
        backups.GetArchivePath(filename);
        if (!ConsoleUser.Confirm($"This deletes the backup {filename} for good.", filename, line.Has("--force")))
        {
            System.Console.Error.WriteLine("Not confirmed; nothing was deleted.");
            return ExitCodes.Failure;
        }
        await backups.DeleteAsync(filename, ConsoleUser.Name, cancellationToken);
        System.Console.Error.WriteLine($"Deleted {filename}.");
        return ExitCodes.Success;
    }
}

public sealed class PruneBackupsCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "prune-backups";
    public string Usage => "[--dry-run]";
    public string Summary => "Applies the retention rules and prints keep or delete, with the reason, for every backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--dry-run"]);
        var decisions = await backups.PruneAsync(line.Has("--dry-run"), ConsoleUser.Name, cancellationToken);
        foreach (var d in decisions)
            System.Console.WriteLine($"{(d.Keep ? "keep  " : line.Has("--dry-run") ? "would delete" : "delete")} {d.Backup.Filename}  {d.Reason}");
        return ExitCodes.Success;
    }
}

/// <summary>Human-readable sizes shared by the console and the page.</summary>
public static class Sizes
{
    public static string Human(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }
}
