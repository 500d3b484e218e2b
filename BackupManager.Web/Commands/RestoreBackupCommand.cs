using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

public sealed class RestoreBackupCommand(IBackupService backups, OffsiteService offsite,
    Core.Locking.BackupOperationLock operationLock, PointInTimeRestore pointInTime,
    OffsitePointInTimeRestore offsitePointInTime)
    : IConsoleCommand
{
    public string Name => "restore-backup";
    public string Usage
        => "<filename> [--from <destination> --identity <file>] [--only-db|--only-files] [--force] [--allow-foreign]"
        + " | --to-time <time> [--from <destination> --identity <file>] [--only-db] [--force]";
    public string Summary
        => "Verifies a backup (with --from: first fetches it from an off-site destination and decrypts it), replaces "
        + "the database and/or files with the backup's, then archives the replaced state as a safety backup. With "
        + "--to-time (ISO 8601 with offset, or YYYY-MM-DD HH:MM:SS in Backup__TimeZone): the database as it was then "
        + "(with --from: from the base backup and WAL at that destination).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files", "--force", "--allow-foreign"],
            ["--from", "--identity", "--to-time"]);
        if (line.Value("--to-time") is { } toTime)
            return line.Value("--from") is { } from
                ? await offsitePointInTime.RunAsync(line, from, toTime, cancellationToken)
                : await pointInTime.RunAsync(line, toTime, cancellationToken);
        var filename = line.SinglePositional("backup filename");
        var scope = ConsoleUser.Scope(line);
        // One lease from the fetch to the end of the restore: a create in between could prune the fetched archive.
        using var lease = line.Value("--from") is null ? null : operationLock.Acquire("restore", ConsoleUser.Name);
        var what = scope switch { BackupScope.DatabaseOnly => "the database", BackupScope.FilesOnly => "the files",
            _ => "the database and the files" };
        var identities = line.Value("--from") is null ? null : OffsiteOutput.ReadIdentity(line.Value("--identity"));
        if (identities is null)
        {
            if (line.Value("--identity") is not null) throw new UsageException(
                "--identity goes with --from <destination>.");
            backups.GetArchivePath(filename);
        }
        if (!ConsoleUser.Confirm(
            $"This replaces {what} with the contents of {filename} (the current state is kept and archived as a "
            + $"safety backup).", filename, line.Has("--force")))
        {
            Console.Error.WriteLine("Not confirmed; nothing was changed.");
            return ExitCodes.Failure;
        }
        var progress = new TerminalProgress();
        var request = new RestoreBackupRequest(filename, scope, ConsoleUser.Name, line.Has("--allow-foreign"), lease);
        // --from: fetched, then restored from the rebuilt copy, which the restore verifies once while it stages.
        var result = line.Value("--from") is { } destination
            ? await offsite.FetchAndRestoreAsync(destination, identities!, request, progress, cancellationToken)
            : await backups.RestoreAsync(request, progress, cancellationToken);
        progress.Done();
        RestoreOutput.Print(result);
        return ExitCodes.Success;
    }
}
