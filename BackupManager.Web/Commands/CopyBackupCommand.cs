using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

public sealed class CopyBackupCommand(OffsiteService offsite) : IConsoleCommand
{
    public string Name => "copy-backup";
    public string Usage => "[<filename>] [--to <destination>]";
    public string Summary
        => "Copies what the off-site destinations still lack (or one backup), then applies their retention; exit 6 if "
        + "a copy failed.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, [], ["--to"]);
        if (line.Positional.Count > 1) throw new UsageException("Give at most one backup filename.");
        if (offsite.DestinationNames.Count == 0)
            throw new UsageException(
                "No off-site destination is configured. Add one with Backup__Destinations__<name>__Type (s3, sftp or "
                + "folder); see the README.");
        var progress = new TerminalProgress();
        var reports = await offsite.CopyPendingAsync(line.Positional.FirstOrDefault(), line.Value("--to"), progress,
            cancellationToken);
        progress.Done();
        return OffsiteOutput.Print(reports, null);
    }
}
