namespace BackupManager.Core.Retention;

/// <summary>
/// Which backups to keep. The one place the rules live; the engine applies them after every create and
/// <c>app:prune-backups</c> prints them. Rules, first match wins:
/// 1. pinned backups are kept; 2. the newest backup is kept; 3. the backup just made is kept;
/// 4. an archive whose summary cannot be read is kept for a person to inspect;
/// 5. daily, manual and uploaded backups: the newest MAX_BACKUPS are kept; foreign ones (not signed by this
///    installation) are ranked apart, so they never push the clinic's own out, and are never the "newest";
/// 6. weekly backups: the newest <see cref="BackupOptions.KeepWeekly"/> are kept, apart from the dailies;
/// 7. pre-restore safety backups: kept for <see cref="BackupOptions.KeepSafetyDays"/> days.
/// </summary>
public sealed class RetentionPolicy(int maxBackups, int keepWeekly, int keepSafetyDays)
{
    public static RetentionPolicy From(BackupOptions options) => new(options.MaxBackups, options.KeepWeekly,
        options.KeepSafetyDays);

    public IReadOnlyList<RetentionDecision> Evaluate(IEnumerable<BackupInfo> backups, DateTimeOffset now,
        string? justCreated = null)
    {
        var newestFirst = backups.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Filename,
            StringComparer.Ordinal).ToList();
        // A foreign archive (uploaded, copied in) never displaces the clinic's own: not as the newest, not in a rank.
        var newest = (newestFirst.FirstOrDefault(b => b.Readable && !b.Foreign)
            ?? newestFirst.FirstOrDefault(b => b.Readable))?.Filename;
        var rankInGroup = new Dictionary<string, int>();
        var decisions = new List<RetentionDecision>(newestFirst.Count);
        foreach (var backup in newestFirst)
        {
            var group = backup.Foreign && backup.Trigger != BackupTrigger.PreRestore
                ? "foreign" : GroupOf(backup.Trigger);
            var rank = rankInGroup.GetValueOrDefault(group);
            rankInGroup[group] = rank + 1;
            decisions.Add(Decide(backup, group, rank, newest, justCreated, now));
        }
        return decisions;
    }

    private RetentionDecision Decide(BackupInfo backup, string group, int rank, string? newest, string? justCreated,
        DateTimeOffset now)
    {
        if (backup.Pinned) return new(backup, true, "pinned");
        if (backup.Filename == newest) return new(backup, true, "newest backup");
        if (backup.Filename == justCreated) return new(backup, true, "just made");
        if (!backup.Readable) return new(backup, true,
            "archive summary unreadable; never deleted automatically, check it with app:verify-backup");
        return group switch
        {
            "weekly" => rank < keepWeekly
                ? new(backup, true, $"one of the newest {keepWeekly} weekly backups (Backup__KeepWeekly={keepWeekly})")
                : new(backup, false,
                    $"older than the newest {keepWeekly} weekly backups (Backup__KeepWeekly={keepWeekly})"),
            "safety" => now - backup.CreatedAt < TimeSpan.FromDays(keepSafetyDays)
                ? new(backup, true,
                    $"pre-restore safety backup younger than {keepSafetyDays} days "
                    + $"(Backup__KeepSafetyDays={keepSafetyDays})")
                : new(backup, false,
                    $"pre-restore safety backup older than {keepSafetyDays} days "
                    + $"(Backup__KeepSafetyDays={keepSafetyDays})"),
            "foreign" => rank < maxBackups
                ? new(backup, true,
                    $"one of the newest {maxBackups} foreign (uploaded) backups, counted apart from the clinic's own "
                    + $"(MAX_BACKUPS={maxBackups})")
                : new(backup, false,
                    $"older than the newest {maxBackups} foreign (uploaded) backups (MAX_BACKUPS={maxBackups})"),
            _ => rank < maxBackups
                ? new(backup, true,
                    $"one of the newest {maxBackups} daily and manual backups (MAX_BACKUPS={maxBackups})")
                : new(backup, false,
                    $"older than the newest {maxBackups} daily and manual backups (MAX_BACKUPS={maxBackups})"),
        };
    }

    private static string GroupOf(BackupTrigger trigger) => trigger switch
    {
        BackupTrigger.Weekly => "weekly",
        BackupTrigger.PreRestore => "safety",
        _ => "regular",
    };
}
