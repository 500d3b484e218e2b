using BackupManager.Web.Services;
using BackupManager.Core;

namespace BackupManager.Web.Commands;

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
        Console.WriteLine(
            $"{report.Filename}: OK ({report.Entries} entries, {Sizes.Human(report.Bytes)} checked)");
        return ExitCodes.Success;
    }
}
