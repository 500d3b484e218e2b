using BackupManager.Core;
using BackupManager.Core.Jobs;

namespace BackupManager.Web.Services;

/// <summary>How the pages name a job while it runs and say how it ended (one wording for the banner, the live region
/// and the snackbars).</summary>
public static class BackupJobText
{
    /// <summary>What the job does, e.g. "Copying to nas".</summary>
    public static string Title(BackupJob job) => job.Kind switch
    {
        BackupJobKind.Create => "Creating a backup",
        BackupJobKind.Restore => $"Restoring {job.Filename}",
        BackupJobKind.Copy => job.Destination is null ? "Copying off-site" : $"Copying to {job.Destination}",
        BackupJobKind.FetchRestore => $"Fetching {job.Filename} from {job.Destination} and restoring it",
        BackupJobKind.Drill => job.Filename is null ? "Restore drill" : $"Restore drill of {job.Filename}",
        BackupJobKind.PointInTimeRestore => $"Restoring to {Target(job)}",
        _ => job.Kind.ToString(),
    };

    /// <summary>How a finished job ended, for a snackbar.</summary>
    public static string Outcome(BackupJob job) => job switch
    {
        { Status: not BackupJobStatus.Succeeded } => Failed(job),
        { Kind: BackupJobKind.Create, Warning: { } warning } => warning,
        { Kind: BackupJobKind.Create } => $"Backup {job.Filename} created.",
        { Kind: BackupJobKind.Copy, Copies: { } copies } => copies.Sum(c => c.Copied.Count) == 0
            ? $"{Where(job)} {(job.Destination is null ? "are" : "is")} up to date."
            : $"Copied {copies.Sum(c => c.Copied.Count)} backup(s) to {Where(job)} "
                + $"({Sizes.Human(copies.Sum(c => c.BytesSent))} sent).",
        { Kind: BackupJobKind.Drill, Drill: { } drill } => $"The drill of {drill.Filename} passed: a full restore "
            + $"took {Core.Health.BackupHealthEvaluator.DescribeDuration(drill.RestoreDuration)}.",
        _ => Restored(job),
    };

    /// <summary>A finished restore (or fetch-then-restore), as the result alert says it.</summary>
    public static string Restored(BackupJob restore)
    {
        if (restore.Status != BackupJobStatus.Succeeded)
            return $"The restore {(restore.PointInTime is null ? "of " + restore.Filename : "to " + Target(restore))}"
                + $" failed: {restore.Error ?? "see the server log."}";
        var what = restore.Scope switch
        {
            BackupScope.DatabaseOnly => "the database",
            BackupScope.FilesOnly => "the files",
            _ => "the database and the files",
        };
        var safety = restore.SafetyBackup is { } name
            ? $"The state before the restore is kept as the safety backup {name}."
            : "No safety backup was made.";
        if (restore.PointInTime is { } pit)
            return $"The restore finished: {what} restored to {Target(restore)} (base backup {pit.BaseBackup}"
                + (pit.FilesFrom is null ? "" : $", the files of {pit.FilesFrom}")
                + $"; archived as {pit.Archive}). {safety} {restore.Warning}".TrimEnd();
        return $"The restore finished: {what} restored from {restore.Filename}. {safety} {restore.Warning}".TrimEnd();
    }

    private static string Failed(BackupJob job) => job.Kind switch
    {
        BackupJobKind.Create => job.Error ?? "The backup failed.",
        BackupJobKind.Restore or BackupJobKind.FetchRestore or BackupJobKind.PointInTimeRestore => Restored(job),
        _ => job.Error ?? $"{Title(job)} failed; see the server log.",
    };

    private static string Target(BackupJob job) => job.PointInTime is { } pit
        ? $"{pit.Target.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : "a point in time";

    private static string Where(BackupJob job) => job.Destination ?? "the destinations";
}
