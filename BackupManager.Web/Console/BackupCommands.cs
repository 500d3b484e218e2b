using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Console;

/// <summary>The acting user of console commands, recorded in manifests and logs.</summary>
internal static class ConsoleUser
{
    public static string Name => $"console:{Environment.UserName}";

    /// <summary>On a terminal, asks the operator to type <paramref name="expected"/>; without one, requires --force.</summary>
    public static bool Confirm(string question, string expected, bool force)
    {
        if (force) return true;
        if (System.Console.IsInputRedirected)
            throw new UsageException($"{question} Standard input is not a terminal, so add --force to confirm.");
        System.Console.Error.Write($"{question}\nType {expected} to confirm: ");
        return string.Equals(System.Console.ReadLine()?.Trim(), expected, StringComparison.Ordinal);
    }

    public static BackupScope Scope(CommandLine line)
    {
        if (line.Has("--only-db") && line.Has("--only-files")) throw new UsageException("--only-db and --only-files cannot be combined.");
        return line.Has("--only-db") ? BackupScope.DatabaseOnly : line.Has("--only-files") ? BackupScope.FilesOnly : BackupScope.Full;
    }
}

public sealed class CreateBackupCommand(IBackupService backups, OffsiteService offsite, Microsoft.Extensions.Options.IOptions<BackupOptions> options) : IConsoleCommand
{
    public string Name => "create-backup";
    public string Usage => "[--only-db|--only-files] [--priority low|normal] [--no-copy]";
    public string Summary => "Makes a backup now and prints its filename, then copies it to the off-site destinations (exit 6 if a copy failed).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files", "--no-copy"], ["--priority"]);
        if (line.Positional.Count > 0) throw new UsageException("create-backup takes no filename.");
        var priority = BackupPriorities.Parse(line.Value("--priority"), options.Value.ManualPriorityLevel)
            ?? throw new UsageException($"--priority must be low (yields to the clinic's database) or normal (as fast as possible), not '{line.Value("--priority")}'.");
        // This process does nothing else: every thread of it, and all it starts, yields to the clinic.
        if (priority == BackupPriority.Low) BackupManager.Core.Storage.LowPriority.ApplyToThisProcess();
        var progress = new TerminalProgress();
        var created = await backups.CreateAsync(new CreateBackupRequest(ConsoleUser.Scope(line), BackupTrigger.Manual, ConsoleUser.Name, priority), progress, cancellationToken);
        progress.Done();
        System.Console.WriteLine(created.Filename);
        if (created.WarningCount > 0) System.Console.Error.WriteLine($"{created.WarningCount} warning(s); see the log or the manifest.");
        if (line.Has("--no-copy") || offsite.DestinationNames.Count == 0) return ExitCodes.Success;
        return OffsiteOutput.Print(await offsite.CopyPendingAsync(progress: progress, cancellationToken: cancellationToken), created.Filename);
    }
}

public sealed class RestoreBackupCommand(IBackupService backups, OffsiteService offsite, Core.Locking.BackupOperationLock operationLock)
    : IConsoleCommand
{
    public string Name => "restore-backup";
    public string Usage => "<filename> [--from <destination> --identity <file>] [--only-db|--only-files] [--force] [--allow-foreign]";
    public string Summary => "Verifies a backup (with --from: first fetches it from an off-site destination and decrypts it), replaces the database and/or files with the backup's, then archives the replaced state as a safety backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--only-db", "--only-files", "--force", "--allow-foreign"], ["--from", "--identity"]);
        var filename = line.SinglePositional("backup filename");
        var scope = ConsoleUser.Scope(line);
        // One lease from the fetch to the end of the restore: a create in between could prune the fetched archive.
        using var lease = line.Value("--from") is null ? null : operationLock.Acquire("restore", ConsoleUser.Name);
        if (line.Value("--from") is { } destination)
        {
            var identities = OffsiteOutput.ReadIdentity(line.Value("--identity"));
            var fetching = new TerminalProgress();
            var fetched = await offsite.FetchAsync(destination, filename, identities, ConsoleUser.Name, fetching, cancellationToken);
            fetching.Done();
            Core.Restore.FaultInjection.PauseAt(Core.Restore.FaultInjection.Fetched);
            System.Console.Error.WriteLine($"Fetched {fetched.Filename} from {destination} and verified it{(fetched.Foreign ? " (it carries no signature of this installation: if you trust it, add --allow-foreign)" : "")}.");
        }
        else if (line.Value("--identity") is not null) throw new UsageException("--identity goes with --from <destination>.");
        backups.GetArchivePath(filename);
        var what = scope switch { BackupScope.DatabaseOnly => "the database", BackupScope.FilesOnly => "the files", _ => "the database and the files" };
        if (!ConsoleUser.Confirm($"This replaces {what} with the contents of {filename} (the current state is kept and archived as a safety backup).", filename, line.Has("--force")))
        {
            System.Console.Error.WriteLine("Not confirmed; nothing was changed.");
            return ExitCodes.Failure;
        }
        var progress = new TerminalProgress();
        var result = await backups.RestoreAsync(new RestoreBackupRequest(filename, scope, ConsoleUser.Name, line.Has("--allow-foreign")), progress, cancellationToken);
        progress.Done();
        System.Console.Error.WriteLine($"Restored {result.Filename}" +
            (result.RestoredDatabase ? "; database replaced" : "") +
            (result.RestoredFolders.Count > 0 ? $"; folders replaced: {string.Join(", ", result.RestoredFolders)}" : "") +
            (result.SafetyBackup is null ? "." : $". Safety backup of the previous state: {result.SafetyBackup}."));
        foreach (var warning in result.Warnings) System.Console.Error.WriteLine($"Warning: {warning}");
        return ExitCodes.Success;
    }
}

public sealed class ListBackupsCommand(IBackupService backups, OffsiteService offsite) : IConsoleCommand
{
    public string Name => "list-backups";
    public string Usage => "[--destination <name>] [--json]";
    public string Summary => "Lists the backups in the backup folder (or at an off-site destination), newest first.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"], ["--destination"]);
        var destination = line.Value("--destination");
        var list = destination is null ? await backups.ListAsync(cancellationToken) : await offsite.ListAsync(destination, cancellationToken);
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
                copies = status is null ? null : offsite.CopiesOf(b.Filename, status).ToDictionary(c => c.Destination, c => c.State),
            });
            System.Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }
        if (list.Count == 0)
        {
            System.Console.Error.WriteLine(destination is null ? "No backups yet. Make one with app:create-backup." : $"{destination} holds no backup yet. Copy them with app:copy-backup.");
            return ExitCodes.Success;
        }
        System.Console.WriteLine($"{"FILENAME",-31} {"SIZE",10} {"CREATED (UTC)",-20} {"TRIGGER",-12} CONTAINS");
        foreach (var b in list)
            System.Console.WriteLine($"{b.Filename,-31} {Sizes.Human(b.Size),10} {b.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} {b.Trigger.ToName(),-12} " +
                $"{(b.Readable ? string.Join("+", b.Contains) : "UNREADABLE")}{(b.Pinned ? " (pinned)" : "")}{(b.Foreign ? " FOREIGN (not made here)" : "")}"
                + (status is null ? "" : "  off-site: " + string.Join(", ", offsite.CopiesOf(b.Filename, status).Select(c => $"{c.Destination} {c.State}"))));
        return ExitCodes.Success;
    }
}

public sealed class VerifyBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "verify-backup";
    public string Usage => "<filename>";
    public string Summary => "Re-reads a backup and checks every entry's SHA-256 and the zip structure.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var filename = new CommandLine(arguments, []).SinglePositional("backup filename");
        var progress = new TerminalProgress();
        var report = await backups.VerifyAsync(filename, progress, cancellationToken);
        progress.Done();
        System.Console.WriteLine($"{report.Filename}: OK ({report.Entries} entries, {Sizes.Human(report.Bytes)} checked)");
        return ExitCodes.Success;
    }
}

public sealed class DeleteBackupCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "delete-backup";
    public string Usage => "<filename> [--force]";
    public string Summary => "Deletes one backup (asks for confirmation on a terminal).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--force"]);
        var filename = line.SinglePositional("backup filename");
        backups.GetArchivePath(filename);
        if (!ConsoleUser.Confirm($"This deletes the backup {filename} for good.", filename, line.Has("--force")))
        {
            System.Console.Error.WriteLine("Not confirmed; nothing was deleted.");
            return ExitCodes.Failure;
        }
        await backups.DeleteAsync(filename, ConsoleUser.Name, cancellationToken);
        System.Console.Error.WriteLine($"Deleted {filename}.");
        return ExitCodes.Success;
    }
}

public sealed class PruneBackupsCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "prune-backups";
    public string Usage => "[--dry-run]";
    public string Summary => "Applies the retention rules and prints keep or delete, with the reason, for every backup.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--dry-run"]);
        var decisions = await backups.PruneAsync(line.Has("--dry-run"), ConsoleUser.Name, cancellationToken);
        foreach (var d in decisions)
            System.Console.WriteLine($"{(d.Keep ? "keep  " : line.Has("--dry-run") ? "would delete" : "delete")} {d.Backup.Filename}  {d.Reason}");
        return ExitCodes.Success;
    }
}

/// <summary>Human-readable sizes shared by the console and the page.</summary>
public static class Sizes
{
    public static string Human(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }
}

public sealed class CopyBackupCommand(OffsiteService offsite) : IConsoleCommand
{
    public string Name => "copy-backup";
    public string Usage => "[<filename>] [--to <destination>]";
    public string Summary => "Copies what the off-site destinations still lack (or one backup), then applies their retention; exit 6 if a copy failed.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, [], ["--to"]);
        if (line.Positional.Count > 1) throw new UsageException("Give at most one backup filename.");
        if (offsite.DestinationNames.Count == 0)
            throw new UsageException("No off-site destination is configured. Add one with Backup__Destinations__<name>__Type (s3, sftp or folder); see the README.");
        var progress = new TerminalProgress();
        var reports = await offsite.CopyPendingAsync(line.Positional.FirstOrDefault(), line.Value("--to"), progress, cancellationToken);
        progress.Done();
        return OffsiteOutput.Print(reports, null);
    }
}

public sealed class CheckDestinationCommand(OffsiteService offsite) : IConsoleCommand
{
    public string Name => "check-destination";
    public string Usage => "<destination> [--json]";
    public string Summary => "Checks that everything each backup at a destination needs is there with its recorded size, and re-downloads a rotating sample against the SHA-256 recorded at upload.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        var report = await offsite.CheckAsync(line.SinglePositional("destination name"), cancellationToken: cancellationToken);
        if (line.Has("--json")) System.Console.WriteLine(JsonSerializer.Serialize(report, BackupJson.Options));
        else
        {
            System.Console.WriteLine($"{report.Destination}: {report.Backups} backup(s), {report.Objects} object(s); re-downloaded {report.Sampled} ({Sizes.Human(report.SampledBytes)}).");
            foreach (var problem in report.Problems) System.Console.WriteLine($"PROBLEM: {problem}");
            if (report.Healthy) System.Console.WriteLine("OK: nothing missing or damaged.");
        }
        return report.Healthy ? ExitCodes.Success : ExitCodes.Damaged;
    }
}

/// <summary>What the console prints about copies, shared by create-backup and copy-backup.</summary>
internal static class OffsiteOutput
{
    public static int Print(IReadOnlyList<CopyReport> reports, string? created)
    {
        foreach (var r in reports)
        {
            if (r.Succeeded)
                System.Console.Error.WriteLine($"{r.Destination}: {(r.Copied.Count == 0 ? "up to date" : $"copied {string.Join(", ", r.Copied)}")} "
                    + $"({Sizes.Human(r.BytesSent)} sent, {Sizes.Human(r.BytesReused)} already there){(r.Removed.Count > 0 ? $"; removed by its retention: {string.Join(", ", r.Removed)}" : "")}.");
            else
                System.Console.Error.WriteLine($"Copy to {r.Destination} FAILED: {r.Error}" + (created is null ? "" : $" The backup {created} itself was made and is kept; the copy is retried by the web app, or run app:copy-backup."));
        }
        return reports.All(r => r.Succeeded) ? ExitCodes.Success : ExitCodes.CopyFailed;
    }

    /// <summary>Reads an age identity file named on the command line ("-" reads standard input); the secret is never echoed.</summary>
    public static IReadOnlyList<BackupManager.Core.Offsite.Age.AgeIdentity> ReadIdentity(string? path)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException("--from needs --identity <file>: the age identity (AGE-SECRET-KEY-1…) of one of the recipients, or - to read it from standard input.");
        string text;
        try { text = path == "-" ? System.Console.In.ReadToEnd() : File.ReadAllText(path); }
        catch (IOException e) { throw new UsageException($"The identity file {path} cannot be read: {e.Message}"); }
        try { return BackupManager.Core.Offsite.Age.AgeIdentity.ParseFile(text); }
        catch (FormatException e) { throw new UsageException($"{path}: {e.Message}"); }
    }
}

public sealed class RestoreDrillCommand(IBackupService backups) : IConsoleCommand
{
    public string Name => "restore-drill";
    public string Usage => "[<filename>] [--json]";
    public string Summary => "Restores the newest backup (or the one named) into a scratch database and folders, checks row counts, file checksums and Backup__DrillChecks, times it, removes the copies; exit 1 if the drill failed.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, ["--json"]);
        if (line.Positional.Count > 1) throw new UsageException("Give at most one backup filename.");
        var progress = new TerminalProgress();
        var result = await backups.DrillAsync(new BackupManager.Core.Drills.DrillRequest(line.Positional.FirstOrDefault(), ConsoleUser.Name), progress, cancellationToken);
        progress.Done();
        if (line.Has("--json")) System.Console.WriteLine(JsonSerializer.Serialize(DrillOutput.Json(result), BackupJson.Options));
        else
        {
            System.Console.WriteLine($"{result.Filename}: {(result.Passed ? "PASSED" : "FAILED")} — restored in {DrillOutput.Duration(result.RestoreDuration)} "
                + $"({result.TablesChecked} tables, {result.RowsChecked:N0} rows, {result.FilesChecked} files, {result.OperatorChecks} operator check(s) checked).");
            foreach (var failure in result.Failures) System.Console.WriteLine($"FAILED: {failure}");
            foreach (var warning in result.Warnings) System.Console.WriteLine($"warning: {warning}");
        }
        return result.Passed ? ExitCodes.Success : ExitCodes.Failure;
    }
}

/// <summary>How drills are shown by the console and the API.</summary>
public static class DrillOutput
{
    public static string Duration(TimeSpan time) => BackupManager.Core.Health.BackupHealthEvaluator.DescribeDuration(time);

    public static object Json(BackupManager.Core.Drills.DrillResult r) => new
    {
        filename = r.Filename,
        passed = r.Passed,
        started_at = r.StartedAt.UtcDateTime,
        restore_seconds = Math.Round(r.RestoreDuration.TotalSeconds, 1),
        total_seconds = Math.Round(r.TotalDuration.TotalSeconds, 1),
        archive_bytes = r.ArchiveBytes,
        tables_checked = r.TablesChecked,
        rows_checked = r.RowsChecked,
        files_checked = r.FilesChecked,
        operator_checks = r.OperatorChecks,
        failures = r.Failures,
        warnings = r.Warnings,
        requested_by = r.RequestedBy,
    };
}
