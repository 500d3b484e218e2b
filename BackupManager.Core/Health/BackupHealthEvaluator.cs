using BackupManager.Core.Jobs;

namespace BackupManager.Core.Health;

/// <summary>
/// Decides whether a clinic can rely on its backups right now. Checks: a recent backup exists; the last scheduled
/// runs did not fail; the backup folder can hold another backup as large as the newest; the total size is under the
/// optional cap. Pure: the caller passes the folder status, the schedule history and the time.
/// </summary>
public static class BackupHealthEvaluator
{
    public static BackupHealthReport Evaluate(BackupFolderStatus status, IReadOnlyDictionary<string,
        ScheduledRun> lastRuns, BackupHealthOptions options, DateTimeOffset now)
    {
        var checks = new List<BackupCheck>();
        if (status.Newest is not { } newest)
            checks.Add(new("recent-backup", false,
                "There is no backup yet. Create one now (app:create-backup or the Backups page)."));
        else
        {
            var age = now - newest.CreatedAt;
            checks.Add(age <= TimeSpan.FromHours(options.MaxAgeHours)
                ? new("recent-backup", true,
                    $"The newest backup, {newest.Filename}, is {age.TotalHours:0.#} hours old.")
                : new("recent-backup", false,
                    $"The newest backup, {newest.Filename}, is {age.TotalHours:0} hours old (limit "
                    + $"{options.MaxAgeHours} h, Backup__MaxAgeHours). Check that the scheduled backups run."));
        }

        var failed = lastRuns.Values.Where(r => r.Outcome != ScheduledRunOutcome.Succeeded).OrderBy(r => r.Schedule,
            StringComparer.Ordinal).ToList();
        checks.Add(failed.Count == 0
            ? new("scheduled-runs", true,
                lastRuns.Count == 0 ? "No scheduled run has happened yet." : "The last scheduled runs succeeded.")
            : new("scheduled-runs", false, string.Join(" ", failed.Select(r =>
                $"The last {r.Schedule} backup at {r.At:yyyy-MM-dd HH:mm} UTC "
                    + $"{(r.Outcome == ScheduledRunOutcome.Skipped ? "was skipped" : "failed")}: {r.Detail}"))));

        if (status.FreeBytes < 0)
            checks.Add(new("free-space", false, "The free space of the backup folder cannot be read."));
        else
        {
            var needed = status.Newest?.Size ?? 0;
            checks.Add(status.FreeBytes > needed
                ? new("free-space", true, $"{status.FreeBytes:N0} bytes free in the backup folder.")
                : new("free-space", false,
                    $"Only {status.FreeBytes:N0} bytes are free in the backup folder, less than the newest backup "
                    + $"({needed:N0} bytes). Free space or move Backup__Directory."));
        }

        if (status.UnfinishedRestore is { } unfinished)
            checks.Add(new("restore", false, unfinished));

        if (options.MaxTotalBytes > 0)
            checks.Add(status.TotalBytes <= options.MaxTotalBytes
                ? new("total-size", true,
                    $"Backups use {status.TotalBytes:N0} of {options.MaxTotalBytes:N0} bytes allowed.")
                : new("total-size", false,
                    $"Backups use {status.TotalBytes:N0} bytes, over the cap of {options.MaxTotalBytes:N0} "
                    + $"(Backup__MaxTotalBytes). Lower MAX_BACKUPS or raise the cap."));

        return new BackupHealthReport(checks.All(c => c.Healthy), checks, now);
    }

    /// <summary>
    /// The restore-drill check: the last drill must have passed; with drills scheduled it must also be younger than
    /// MaxDrillAgeDays — once the oldest backup is that old (a new installation is not unhealthy before its first
    /// drill).
    /// </summary>
    public static BackupCheck Drill(Drills.DrillResult? last, bool scheduled, DateTimeOffset? oldestBackup,
        BackupHealthOptions options, DateTimeOffset now, string? nextDrill)
    {
        var limit = TimeSpan.FromDays(options.MaxDrillAgeDays);
        if (last is { Passed: false })
            return new("restore-drill", false,
                $"The last restore drill, of {last.Filename} on {last.StartedAt:yyyy-MM-dd HH:mm} UTC, failed: "
                + $"{string.Join(" ", last.Failures)} "
                + "Fix the cause and run app:restore-drill (or Run a restore drill on the History page) to prove the "
                    + "backups restore.");
        if (last is null)
            return scheduled && oldestBackup is { } oldest && now - oldest > limit
                ? new("restore-drill", false,
                    $"No restore drill has run, though backups exist for more than {options.MaxDrillAgeDays} days "
                    + $"(Backup__MaxDrillAgeDays). Run app:restore-drill, and check that the web app runs.")
                : new("restore-drill", true,
                    $"No restore drill has run yet."
                    + $"{(nextDrill is null ? "" : $" The first is scheduled for {nextDrill}.")}");
        var age = now - last.StartedAt;
        if (scheduled && age > limit)
            return new("restore-drill", false,
                $"The last restore drill ran {age.TotalDays:0} days ago (limit {options.MaxDrillAgeDays} days, "
                + $"Backup__MaxDrillAgeDays). Check that the web app runs, or run app:restore-drill.");
        return new("restore-drill", true,
            $"The last restore drill, of {last.Filename}, passed {age.TotalDays:0.#} days ago: a full restore took "
            + $"{DescribeDuration(last.RestoreDuration)}.");
    }

    /// <summary>"4 min 12 s", "38 s", "1.4 s".</summary>
    public static string DescribeDuration(TimeSpan time) => time.TotalSeconds < 10 ? $"{time.TotalSeconds:0.0} s"
        : time.TotalMinutes < 1 ? $"{time.TotalSeconds:0} s"
        : time.TotalHours < 1 ? $"{(int)time.TotalMinutes} min {time.Seconds} s"
        : $"{(int)time.TotalHours} h {time.Minutes} min";
}
