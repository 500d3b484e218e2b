using BackupManager.Core;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Commands;

/// <summary>
/// app:restore-backup --from &lt;destination&gt; --identity &lt;file&gt; --to-time: checks the time against the window
/// the destination holds (refused before anything is fetched or changed), then fetches the base backup and WAL and
/// restores through the normal point-in-time path.
/// </summary>
public sealed class OffsitePointInTimeRestore(OffsitePointInTime pitr, IOptions<ScheduleOptions> schedule)
{
    public async Task<int> RunAsync(CommandLine line, string destination, string toTime,
        CancellationToken cancellationToken)
    {
        if (line.Positional.Count > 0 || line.Has("--only-files") || line.Has("--allow-foreign"))
            throw new UsageException("--to-time takes no filename and goes only with --from, --identity, --only-db "
                + "and --force.");
        var identities = OffsiteOutput.ReadIdentity(line.Value("--identity"));
        var target = PointInTimeInput.Parse(toTime, schedule.Value.ResolveTimeZone());
        var scope = ConsoleUser.Scope(line);
        var window = await pitr.ReadWindowAsync(destination, cancellationToken);
        var chosen = OffsitePointInTime.Choose(window, target, destination);
        var shown = target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo
            .InvariantCulture);
        var what = scope == BackupScope.DatabaseOnly ? "the database"
            : "the database (and the files, from the newest backup with files made at or before that time, if any)";
        if (!ConsoleUser.Confirm($"This replaces {what} with its state at {shown}, recovered from base backup "
            + $"{chosen.Name} at {destination} (the current state is kept and archived as a safety backup).",
            toTime.Trim(), line.Has("--force")))
        {
            Console.Error.WriteLine("Not confirmed; nothing was changed.");
            return ExitCodes.Failure;
        }
        var progress = new TerminalProgress();
        var (archive, result, note) = await pitr.RestoreAsync(destination, identities, target, scope,
            ConsoleUser.Name, progress, cancellationToken);
        progress.Done();
        if (note is not null) Console.Error.WriteLine(note);
        Console.Error.WriteLine($"Made {archive.Filename}: the database at {shown} (base backup {archive.BaseBackup} "
            + $"from {destination})" + (archive.FilesFrom is null ? "." : $", the files of {archive.FilesFrom}."));
        RestoreOutput.Print(result);
        return ExitCodes.Success;
    }
}
