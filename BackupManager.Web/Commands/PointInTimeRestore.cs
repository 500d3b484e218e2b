using BackupManager.Core;
using BackupManager.Core.Pitr;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Commands;

/// <summary>
/// app:restore-backup --to-time: checks the time against the window (refused before anything changes), makes the
/// point-in-time archive and hands it to the normal restore (staged, swapped, safety backup) under one lease.
/// </summary>
public sealed class PointInTimeRestore(PointInTimeRecovery pitr, IOptions<ScheduleOptions> schedule)
{
    public async Task<int> RunAsync(CommandLine line, string toTime, CancellationToken cancellationToken)
    {
        if (line.Positional.Count > 0 || line.Value("--from") is not null || line.Value("--identity") is not null
            || line.Has("--only-files") || line.Has("--allow-foreign"))
            throw new UsageException("--to-time takes no filename and goes only with --only-db and --force.");
        var target = PointInTimeInput.Parse(toTime, schedule.Value.ResolveTimeZone());
        var scope = ConsoleUser.Scope(line);
        var chosen = await pitr.CheckAsync(target, cancellationToken);
        var what = scope == BackupScope.DatabaseOnly ? "the database"
            : "the database (and the files, from the newest backup made at or before that time)";
        var shown = target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo
            .InvariantCulture);
        if (!ConsoleUser.Confirm($"This replaces {what} with its state at {shown}, recovered from base backup "
            + $"{chosen.Name} (the current state is kept and archived as a safety backup).", toTime.Trim(),
            line.Has("--force")))
        {
            Console.Error.WriteLine("Not confirmed; nothing was changed.");
            return ExitCodes.Failure;
        }
        var progress = new TerminalProgress();
        var (archive, result) = await pitr.RestoreAsync(target, scope, ConsoleUser.Name, progress, cancellationToken);
        progress.Done();
        Console.Error.WriteLine($"Made {archive.Filename}: the database at {shown} (base backup {archive.BaseBackup})"
            + (archive.FilesFrom is null ? "." : $", the files of {archive.FilesFrom}."));
        RestoreOutput.Print(result);
        return ExitCodes.Success;
    }
}
