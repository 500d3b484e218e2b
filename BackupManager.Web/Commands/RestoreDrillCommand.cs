using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Pitr;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Commands;

public sealed class RestoreDrillCommand(IBackupService backups, PitrDrill pitr, IOptions<ScheduleOptions> schedule)
    : IConsoleCommand
{
    public string Name => "restore-drill";
    public string Usage => "[<filename>] [--json] | --to-time <time> [--json]";
    public string Summary
        => "Restores the newest backup (or the one named) into a scratch database and folders, checks row counts, "
        + "file checksums and Backup__DrillChecks, times it, removes the copies; with point-in-time recovery on, also "
        + "recovers to the dump's snapshot and compares the row counts. --to-time recovers a temporary server to that "
        + "time (ISO 8601 with offset, or YYYY-MM-DD HH:MM:SS in Backup__TimeZone) and runs the checks there. Exit 1 "
        + "if the drill failed.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"], ["--to-time"]);
        if (line.Positional.Count > 1) throw new UsageException("Give at most one backup filename.");
        var progress = new TerminalProgress();
        Core.Drills.DrillResult result;
        if (line.Value("--to-time") is { } toTime)
        {
            if (line.Positional.Count > 0) throw new UsageException("--to-time takes no filename.");
            result = await pitr.DrillToTimeAsync(PointInTimeInput.Parse(toTime, schedule.Value.ResolveTimeZone()),
                ConsoleUser.Name, cancellationToken);
        }
        else result = await backups.DrillAsync(new Core.Drills.DrillRequest(line.Positional.FirstOrDefault(),
            ConsoleUser.Name), progress, cancellationToken);
        progress.Done();
        if (line.Has("--json")) Console.WriteLine(
            JsonSerializer.Serialize(DrillOutput.Json(result), BackupJson.Options));
        else
        {
            Console.WriteLine(
                $"{result.Filename}: {(result.Passed ? "PASSED" : "FAILED")} — restored in "
                + $"{DrillOutput.Duration(result.RestoreDuration)} "
                + $"({result.TablesChecked} tables, {result.RowsChecked:N0} rows, {result.FilesChecked} files, "
                    + $"{result.OperatorChecks} operator check(s) checked).");
            if (result.PointInTime is { } pointInTime) Console.WriteLine(pointInTime);
            foreach (var failure in result.Failures) Console.WriteLine($"FAILED: {failure}");
            foreach (var warning in result.Warnings) Console.WriteLine($"warning: {warning}");
        }
        return result.Passed ? ExitCodes.Success : ExitCodes.Failure;
    }
}
