using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

public sealed class CreateBackupCommand(IBackupService backups, OffsiteService offsite,
    Microsoft.Extensions.Options.IOptions<BackupOptions> options) : IConsoleCommand
{
    public string Name => "create-backup";
    public string Usage => "[--only-db|--only-files] [--priority low|normal] [--no-copy]";
    public string Summary
        => "Makes a backup now and prints its filename, then copies it to the off-site destinations (exit 6 if a copy "
        + "failed).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files", "--no-copy"], ["--priority"]);
        if (line.Positional.Count > 0) throw new UsageException("create-backup takes no filename.");
        var priority = BackupPriorities.Parse(line.Value("--priority"), options.Value.ManualPriorityLevel)
            ?? throw new UsageException(
                $"--priority must be low (yields to the clinic's database) or normal (as fast as possible), not "
                + $"'{line.Value("--priority")}'.");
        // This process does nothing else: every thread of it, and all it starts, yields to the clinic.
        if (priority == BackupPriority.Low) BackupManager.Core.IO.LowPriority.ApplyToThisProcess();
        var progress = new TerminalProgress();
        var created = await backups.CreateAsync(
            new CreateBackupRequest(ConsoleUser.Scope(line), BackupTrigger.Manual, ConsoleUser.Name, priority),
            progress, cancellationToken);
        progress.Done();
        Console.WriteLine(created.Filename);
        if (created.WarningCount > 0) Console.Error.WriteLine(
            $"{created.WarningCount} warning(s); see the log or the manifest.");
        if (line.Has("--no-copy") || offsite.DestinationNames.Count == 0) return ExitCodes.Success;
        return OffsiteOutput.Print(await offsite.CopyPendingAsync(progress: progress,
            cancellationToken: cancellationToken), created.Filename);
    }
}
