using BackupManager.Core.IO;

namespace BackupManager.Core.Restore;

/// <summary>
/// Exchanges a live folder with its staged replacement by two renames in the same parent folder. Both directions are
/// idempotent and decide from which of the three paths exist, so they can be repeated after a crash at any point.
/// </summary>
internal static class FolderSwap
{
    public static void Forward(FolderSwapPlan plan)
    {
        if (!Directory.Exists(plan.Staging)) return; // already swapped in
        if (Directory.Exists(plan.Target))
        {
            if (Directory.Exists(plan.Old))
                throw new BackupException(BackupErrorKind.Environment,
                    $"Cannot swap {plan.Target}: both it and {plan.Old} exist. Inspect them by hand.");
            Directory.Move(plan.Target, plan.Old);
        }
        Directory.Move(plan.Staging, plan.Target);
        NativeFileSystem.FsyncDirectory(Path.GetDirectoryName(plan.Target)!);
    }

    /// <summary>Puts the old copy back as the target; the restored copy is left as staging for the caller to delete
    /// once everything is back.</summary>
    public static void Back(FolderSwapPlan plan)
    {
        if (!Directory.Exists(plan.Staging) && Directory.Exists(plan.Target)
            && (Directory.Exists(plan.Old) || !plan.TargetExisted))
            Directory.Move(plan.Target, plan.Staging);
        if (Directory.Exists(plan.Old) && !Directory.Exists(plan.Target))
            Directory.Move(plan.Old, plan.Target);
        NativeFileSystem.FsyncDirectory(Path.GetDirectoryName(plan.Target)!);
    }

    public static void DeleteIfExists(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }
}
