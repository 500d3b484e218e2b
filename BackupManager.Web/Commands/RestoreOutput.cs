using BackupManager.Core;

namespace BackupManager.Web.Commands;

/// <summary>What every restore command prints when it is done: what was replaced, the safety backup, warnings.
/// </summary>
internal static class RestoreOutput
{
    public static void Print(RestoreResult result)
    {
        Console.Error.WriteLine($"Restored {result.Filename}" + (result.RestoredDatabase ? "; database replaced" : "")
            + (result.RestoredFolders.Count > 0 ? $"; folders replaced: {string.Join(", ", result.RestoredFolders)}"
                : "")
            + (result.SafetyBackup is null ? "." : $". Safety backup of the previous state: {result.SafetyBackup}."));
        foreach (var warning in result.Warnings) Console.Error.WriteLine($"Warning: {warning}");
    }
}
