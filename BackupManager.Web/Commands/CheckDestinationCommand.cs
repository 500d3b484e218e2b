using System.Text.Json;
using BackupManager.Web.Services;
using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

public sealed class CheckDestinationCommand(OffsiteService offsite) : IConsoleCommand
{
    public string Name => "check-destination";
    public string Usage => "<destination> [--json]";
    public string Summary
        => "Checks that everything each backup at a destination needs is there with its recorded size, and "
        + "re-downloads a rotating sample against the SHA-256 recorded at upload.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        var report = await offsite.CheckAsync(line.SinglePositional("destination name"),
            cancellationToken: cancellationToken);
        if (line.Has("--json")) Console.WriteLine(JsonSerializer.Serialize(report, BackupJson.Options));
        else
        {
            Console.WriteLine(
                $"{report.Destination}: {report.Backups} backup(s), {report.Objects} object(s); re-downloaded "
                + $"{report.Sampled} ({Sizes.Human(report.SampledBytes)}).");
            foreach (var problem in report.Problems) Console.WriteLine($"PROBLEM: {problem}");
            if (report.Healthy) Console.WriteLine("OK: nothing missing or damaged.");
        }
        return report.Healthy ? ExitCodes.Success : ExitCodes.Damaged;
    }
}
