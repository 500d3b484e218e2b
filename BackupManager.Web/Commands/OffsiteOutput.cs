using BackupManager.Web.Services;
using BackupManager.Core.Offsite;

namespace BackupManager.Web.Commands;

/// <summary>What the console prints about copies, shared by create-backup and copy-backup.</summary>
internal static class OffsiteOutput
{
    public static int Print(IReadOnlyList<CopyReport> reports, string? created)
    {
        foreach (var r in reports)
        {
            if (r.Succeeded)
                Console.Error.WriteLine(
                    $"{r.Destination}: "
                    + $"{(r.Copied.Count == 0 ? "up to date" : $"copied {string.Join(", ", r.Copied)}")} "
                    + $"({Sizes.Human(r.BytesSent)} sent, {Sizes.Human(r.BytesReused)} already "
                        + $"there)"
                        + (r.Removed.Count > 0 ? $"; removed by its retention: {string.Join(", ", r.Removed)}" : "")
                        + ".");
            else
                Console.Error.WriteLine($"Copy to {r.Destination} FAILED: {r.Error}"
                    + (created is null ? ""
                    : $" The backup {created} itself was made and is kept; the copy is retried by the web app, or run "
                    + $"app:copy-backup."));
        }
        return reports.All(r => r.Succeeded) ? ExitCodes.Success : ExitCodes.CopyFailed;
    }

    /// <summary>Reads an age identity file named on the command line ("-" reads standard input); the secret is never
    /// echoed.</summary>
    public static IReadOnlyList<BackupManager.Core.Offsite.Age.AgeIdentity> ReadIdentity(string? path)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException(
            "--from needs --identity <file>: the age identity (AGE-SECRET-KEY-1…) of one of the recipients, or - to "
            + "read it from standard input.");
        string text;
        try { text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path); }
        catch (IOException e) { throw new UsageException($"The identity file {path} cannot be read: {e.Message}"); }
        try { return BackupManager.Core.Offsite.Age.AgeIdentity.ParseFile(text); }
        catch (FormatException e) { throw new UsageException($"{path}: {e.Message}"); }
    }
}
