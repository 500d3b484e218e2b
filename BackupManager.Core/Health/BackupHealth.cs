using BackupManager.Core.Jobs;

namespace BackupManager.Core.Health;

/// <summary>One health check: its name, whether it passes, and a sentence an administrator can act on.</summary>
public sealed record BackupCheck(string Name, bool Healthy, string Detail);

/// <summary>The health of the backups as a whole; healthy only when every check passes.</summary>
public sealed record BackupHealthReport(bool Healthy, IReadOnlyList<BackupCheck> Checks, DateTimeOffset CheckedAt)
{
    public string Summary => Healthy ? "Backups are healthy." : string.Join(" ", Checks.Where(c => !c.Healthy).Select(c => c.Detail));
}

/// <summary>Thresholds of the health checks.</summary>
public sealed class BackupHealthOptions
{
    /// <summary>The newest backup must be younger than this many hours (Backup__MaxAgeHours).</summary>
    public double MaxAgeHours { get; set; } = 26;
    /// <summary>Optional cap on the total size of the backup folder in bytes (Backup__MaxTotalBytes); 0 means none.</summary>
    public long MaxTotalBytes { get; set; }
}

/// <summary>
/// Decides whether a clinic can rely on its backups right now. Checks: a recent backup exists; the last scheduled
/// runs did not fail; the backup folder can hold another backup as large as the newest; the total size is under the
/// optional cap. Pure: the caller passes the folder status, the schedule history and the time.
/// </summary>
public static class BackupHealthEvaluator
{
    public static BackupHealthReport Evaluate(BackupFolderStatus status, IReadOnlyDictionary<string, ScheduledRun> lastRuns, BackupHealthOptions options, DateTimeOffset now)
    {
        var checks = new List<BackupCheck>();
        if (status.Newest is not { } newest)
            checks.Add(new("recent-backup", false, "There is no backup yet. Create one now (app:create-backup or the Backups page)."));
        else
        {
            var age = now - newest.CreatedAt;
            checks.Add(age <= TimeSpan.FromHours(options.MaxAgeHours)
                ? new("recent-backup", true, $"The newest backup, {newest.Filename}, is {age.TotalHours:0.#} hours old.")
                : new("recent-backup", false, $"The newest backup, {newest.Filename}, is {age.TotalHours:0} hours old (limit {options.MaxAgeHours} h, Backup__MaxAgeHours). Check that the scheduled backups run."));
        }

        var failed = lastRuns.Values.Where(r => r.Outcome != ScheduledRunOutcome.Succeeded).OrderBy(r => r.Schedule, StringComparer.Ordinal).ToList();
        checks.Add(failed.Count == 0
            ? new("scheduled-runs", true, lastRuns.Count == 0 ? "No scheduled run has happened yet." : "The last scheduled runs succeeded.")
            : new("scheduled-runs", false, string.Join(" ", failed.Select(r =>
                $"The last {r.Schedule} backup at {r.At:yyyy-MM-dd HH:mm} UTC {(r.Outcome == ScheduledRunOutcome.Skipped ? "was skipped" : "failed")}: {r.Detail}"))));

        if (status.FreeBytes < 0)
            checks.Add(new("free-space", false, "The free space of the backup folder cannot be read."));
        else
        {
            var needed = status.Newest?.Size ?? 0;
            checks.Add(status.FreeBytes > needed
                ? new("free-space", true, $"{status.FreeBytes:N0} bytes free in the backup folder.")
                : new("free-space", false, $"Only {status.FreeBytes:N0} bytes are free in the backup folder, less than the newest backup ({needed:N0} bytes). Free space or move Backup__Directory."));
        }

        if (status.UnfinishedRestore is { } unfinished)
            checks.Add(new("restore", false, unfinished));

        if (options.MaxTotalBytes > 0)
            checks.Add(status.TotalBytes <= options.MaxTotalBytes
                ? new("total-size", true, $"Backups use {status.TotalBytes:N0} of {options.MaxTotalBytes:N0} bytes allowed.")
                : new("total-size", false, $"Backups use {status.TotalBytes:N0} bytes, over the cap of {options.MaxTotalBytes:N0} (Backup__MaxTotalBytes). Lower MAX_BACKUPS or raise the cap."));

        return new BackupHealthReport(checks.All(c => c.Healthy), checks, now);
    }
}
