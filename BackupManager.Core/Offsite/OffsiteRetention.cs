using System.Globalization;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Which backups a destination keeps: the newest one, plus the newest backup of each of the last
/// <c>KeepDaily</c> days, <c>KeepWeekly</c> ISO weeks and <c>KeepMonthly</c> months that have backups (UTC calendar),
/// as restic's --keep-daily/--keep-weekly/--keep-monthly do. A longer history than the server keeps.
/// Pre-restore safety backups never compete for those places (the safety backup of an empty new server must not push
/// the clinic's real backup of that day out); they are kept for <c>Backup__KeepSafetyDays</c>, like on the server.
/// </summary>
public static class OffsiteRetention
{
    public static IReadOnlyDictionary<string, string> Kept(IEnumerable<BackupInfo> backups, DestinationOptions options, int keepSafetyDays, DateTimeOffset now)
    {
        var all = backups.ToList();
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var safety in all.Where(b => b.Trigger == BackupTrigger.PreRestore && now - b.CreatedAt < TimeSpan.FromDays(keepSafetyDays)))
            kept[safety.Filename] = $"pre-restore safety backup younger than {keepSafetyDays} days (Backup__KeepSafetyDays={keepSafetyDays})";
        var newestFirst = all.Where(b => b.Trigger != BackupTrigger.PreRestore)
            .OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Filename, StringComparer.Ordinal).ToList();
        if (newestFirst.Count == 0) return kept;
        kept[newestFirst[0].Filename] = "newest backup";
        Keep(newestFirst, options.KeepDaily, b => b.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", "KeepDaily", kept);
        Keep(newestFirst, options.KeepWeekly, b => $"{ISOWeek.GetYear(b.CreatedAt.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(b.CreatedAt.UtcDateTime):00}", "weekly", "KeepWeekly", kept);
        Keep(newestFirst, options.KeepMonthly, b => b.CreatedAt.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture), "monthly", "KeepMonthly", kept);
        return kept;
    }

    private static void Keep(List<BackupInfo> newestFirst, int count, Func<BackupInfo, string> bucketOf, string label, string setting, Dictionary<string, string> kept)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var backup in newestFirst)
        {
            if (seen.Count >= count) break;
            if (seen.Add(bucketOf(backup))) kept.TryAdd(backup.Filename, $"newest of its {(label == "daily" ? "day" : label == "weekly" ? "week" : "month")} ({setting}={count})");
        }
    }
}
