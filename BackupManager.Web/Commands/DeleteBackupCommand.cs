using BackupManager.Core;

namespace BackupManager.Web.Commands;

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
            Console.Error.WriteLine("Not confirmed; nothing was deleted.");
            return ExitCodes.Failure;
        }
        await backups.DeleteAsync(filename, ConsoleUser.Name, cancellationToken);
        Console.Error.WriteLine($"Deleted {filename}.");
        return ExitCodes.Success;
    }
}
