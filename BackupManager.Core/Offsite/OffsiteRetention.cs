using System.Globalization;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Which backups a destination keeps: the newest <c>KeepLast</c> whatever their day, plus, for each of the last
/// <c>KeepDaily</c> days, <c>KeepWeekly</c> ISO weeks and <c>KeepMonthly</c> months that have backups (UTC calendar),
/// the newest backup holding the database and the newest holding the files (a full backup serves both), as restic's
/// --keep-last/--keep-daily/--keep-weekly/--keep-monthly do. A longer history than the server keeps.
/// Pre-restore safety backups never compete for those places (the safety backup of an empty new server must not push
/// the clinic's real backup of that day out); they are kept for <c>Backup__KeepSafetyDays</c>, like on the server.
/// </summary>
public static class OffsiteRetention
{
    public static IReadOnlyDictionary<string,
        string> Kept(IEnumerable<BackupInfo> backups, DestinationOptions options, int keepSafetyDays,
        DateTimeOffset now)
    {
        var all = backups.ToList();
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var safety in all.Where(b => b.Trigger == BackupTrigger.PreRestore
            && now - b.CreatedAt < TimeSpan.FromDays(keepSafetyDays)))
            kept[safety.Filename] =
                $"pre-restore safety backup younger than {keepSafetyDays} days "
                + $"(Backup__KeepSafetyDays={keepSafetyDays})";
        var newestFirst = all.Where(b => b.Trigger != BackupTrigger.PreRestore)
            .OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Filename, StringComparer.Ordinal).ToList();
        if (newestFirst.Count == 0) return kept;
        kept[newestFirst[0].Filename] = "newest backup";
        // The most recent few whatever their day: a backup made before a risky change must not push last night's out.
        foreach (var recent in newestFirst.Take(options.KeepLast))
            kept.TryAdd(recent.Filename, $"one of the {options.KeepLast} most recent (KeepLast={options.KeepLast})");
        Keep(newestFirst, options.KeepDaily,
            b => b.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", "KeepDaily",
            kept);
        Keep(newestFirst, options.KeepWeekly,
            b => $"{ISOWeek.GetYear(b.CreatedAt.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(b.CreatedAt.UtcDateTime):00}",
            "weekly", "KeepWeekly", kept);
        Keep(newestFirst, options.KeepMonthly,
            b => b.CreatedAt.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture), "monthly", "KeepMonthly",
            kept);
        return kept;
    }

    /// <summary>
    /// Per period, the newest backup holding the database and the newest holding the files (one full backup serves
    /// both), for the newest <paramref name="count"/> periods that have backups.
    /// </summary>
    private static void Keep(List<BackupInfo> newestFirst, int count, Func<BackupInfo, string> bucketOf, string label,
        string setting,
        Dictionary<string, string> kept)
    {
        var period = label == "daily" ? "day" : label == "weekly" ? "week" : "month";
        var held = new Dictionary<string, (bool Database, bool Files)>(StringComparer.Ordinal);
        foreach (var backup in newestFirst)
        {
            var bucket = bucketOf(backup);
            if (!held.TryGetValue(bucket, out var has))
            {
                if (held.Count >= count) break;
                has = (false, false);
            }
            var database = backup.Contains.Contains(BackupContents.Database);
            var files = backup.Contains.Contains(BackupContents.Files);
            var what = (database && !has.Database, files && !has.Files) switch
            {
                (true, true) => "database and files",
                (true, false) => "database",
                (false, true) => "files",
                _ => null,
            };
            if (what is not null) kept.TryAdd(backup.Filename, $"newest {what} of its {period} ({setting}={count})");
            held[bucket] = (has.Database || database, has.Files || files);
        }
    }
}
