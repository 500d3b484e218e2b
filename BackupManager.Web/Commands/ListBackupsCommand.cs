using System.Text.Json;
using BackupManager.Web.Services;
using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

public sealed class ListBackupsCommand(IBackupService backups, OffsiteService offsite) : IConsoleCommand
{
    public string Name => "list-backups";
    public string Usage => "[--destination <name>] [--json]";
    public string Summary => "Lists the backups in the backup folder (or at an off-site destination), newest first.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"], ["--destination"]);
        var destination = line.Value("--destination");
        var list = destination is null ? await backups.ListAsync(cancellationToken)
            : await offsite.ListAsync(destination, cancellationToken);
        var status = destination is null && offsite.DestinationNames.Count > 0 ? offsite.GetStatus() : null;
        if (line.Has("--json"))
        {
            var rows = list.Select(b => new
            {
                filename = b.Filename,
                size = b.Size,
                created_at = b.CreatedAt.UtcDateTime,
                trigger = b.Trigger.ToName(),
                contains = b.Contains,
                requested_by = b.RequestedBy,
                pinned = b.Pinned,
                readable = b.Readable,
                foreign = b.Foreign,
                copies = status is null ? null : offsite.CopiesOf(b.Filename, status)
                    .ToDictionary(c => c.Destination, c => c.State.ToName()),
            });
            Console.WriteLine(JsonSerializer.Serialize(rows,
                new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }
        if (list.Count == 0)
        {
            Console.Error.WriteLine(destination is null ? "No backups yet. Make one with app:create-backup."
                : $"{destination} holds no backup yet. Copy them with app:copy-backup.");
            return ExitCodes.Success;
        }
        Console.WriteLine($"{"FILENAME",-31} {"SIZE",10} {"CREATED (UTC)",-20} {"TRIGGER",-12} CONTAINS");
        foreach (var b in list)
            Console.WriteLine(
                $"{b.Filename,-31} {Sizes.Human(b.Size),10} {b.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} "
                + $"{b.Trigger.ToName(),-12} " +
                $"{(b.Readable ? string.Join("+", b.Contains) : "UNREADABLE")}{(b.Pinned ? " (pinned)" : "")}"
                + $"{(b.Foreign ? " FOREIGN (not made here)" : "")}"
                + (status is null ? "" : "  off-site: "
                    + string.Join(", ", offsite.CopiesOf(b.Filename, status)
                    .Select(c => $"{c.Destination} {c.State.ToName()}"))));
        return ExitCodes.Success;
    }
}
