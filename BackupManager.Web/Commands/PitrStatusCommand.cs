using System.Globalization;
using BackupManager.Core;
using BackupManager.Core.Pitr;

namespace BackupManager.Web.Commands;

/// <summary>app:pitr-status: the restorable window, the receiver, lag, what the slot holds, the last base
/// backup.</summary>
public sealed class PitrStatusCommand(PitrStatusReader reader) : IConsoleCommand
{
    public string Name => "pitr-status";
    public string Usage => "[--json]";
    public string Summary => "Shows the point-in-time window (from/to), the WAL receiver, its lag, the bytes its slot "
        + "keeps on the database server and the last base backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        var status = await reader.ReadAsync(cancellationToken);
        if (line.Has("--json"))
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(status, BackupJson.Options));
            return ExitCodes.Success;
        }
        Console.WriteLine($"Enabled:        {(status.Enabled ? "yes" : "no (Backup__Pitr__Enabled=false)")}");
        Console.WriteLine($"Window:         {Time(status.WindowFrom)} to {Time(status.WindowTo)}");
        Console.WriteLine($"Receiver:       {status.Receiver}");
        Console.WriteLine($"Slot:           {status.SlotName}");
        Console.WriteLine($"Lag:            {(status.LagSeconds is { } lag
            ? lag.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "unknown")}");
        Console.WriteLine($"Slot retains:   {(status.SlotRetainedBytes is { } bytes
            ? bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes on the server" : "unknown")}");
        Console.WriteLine($"Last base:      {status.LastBaseBackup ?? "none (run app:base-backup)"}");
        if (status.Problem is not null) Console.WriteLine($"Problem:        {status.Problem}");
        return ExitCodes.Success;
    }

    private static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'",
        CultureInfo.InvariantCulture) ?? "—";
}
