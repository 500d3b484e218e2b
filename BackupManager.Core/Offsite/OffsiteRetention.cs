using System.Globalization;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Which backups a destination keeps: the newest one, plus the newest backup of each of the last
/// <c>KeepDaily</c> days, <c>KeepWeekly</c> ISO weeks and <c>KeepMonthly</c> months that have backups (UTC calendar),
/// as restic's --keep-daily/--keep-weekly/--keep-monthly do. A longer history than the server keeps.
/// </summary>
public static class OffsiteRetention
{
    public static IReadOnlyDictionary<string, string> Kept(IEnumerable<BackupInfo> backups, DestinationOptions options)
    {
        var newestFirst = backups.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Filename, StringComparer.Ordinal).ToList();
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
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
