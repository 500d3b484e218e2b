using BackupManager.Core;

namespace BackupManager.Web.Commands;

public sealed class PruneBackupsCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "prune-backups";
    public string Usage => "[--dry-run]";
    public string Summary
        => "Applies the retention rules and prints keep or delete, with the reason, for every backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--dry-run"]);
        var decisions = await backups.PruneAsync(line.Has("--dry-run"), ConsoleUser.Name, cancellationToken);
        foreach (var d in decisions)
            Console.WriteLine(
                $"{(d.Keep ? "keep  " : line.Has("--dry-run") ? "would delete" : "delete")} {d.Backup.Filename}  "
                + $"{d.Reason}");
        return ExitCodes.Success;
    }
}
