using System.Text.Json;
using BackupManager.Core;

namespace BackupManager.Web.Commands;

public sealed class RestoreDrillCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "restore-drill";
    public string Usage => "[<filename>] [--json]";
    public string Summary
        => "Restores the newest backup (or the one named) into a scratch database and folders, checks row counts, "
        + "file checksums and Backup__DrillChecks, times it, removes the copies; exit 1 if the drill failed.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        if (line.Positional.Count > 1) throw new UsageException("Give at most one backup filename.");
        var progress = new TerminalProgress();
        var result = await backups.DrillAsync(new BackupManager.Core.Drills.DrillRequest(line.Positional.FirstOrDefault(
            ), ConsoleUser.Name), progress, cancellationToken);
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
            foreach (var failure in result.Failures) Console.WriteLine($"FAILED: {failure}");
            foreach (var warning in result.Warnings) Console.WriteLine($"warning: {warning}");
        }
        return result.Passed ? ExitCodes.Success : ExitCodes.Failure;
    }
}
