namespace BackupManager.Core.Drills;

/// <summary>What the history page and GET /api/v1/backups/history show: backups per day and trigger, and the
/// drills.</summary>
public sealed record BackupHistoryReport(string TimeZone, DateOnly From, DateOnly To, IReadOnlyList<HistoryDay> Days,
    IReadOnlyList<DrillResult> Drills)
{
    /// <summary>
    /// Groups <paramref name="backups"/> of the last <paramref name="days"/> days (ending today in <paramref
    /// name="zone"/>) by
    /// local day and trigger. One pass over the list (its summaries are cached), so 1,000 backups cost what 10 do.
    /// </summary>
    public static BackupHistoryReport Build(IEnumerable<BackupInfo> backups, IEnumerable<DrillResult> drills,
        TimeZoneInfo zone, DateTimeOffset now, int days)
    {
        var to = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var from = to.AddDays(1 - days);
        var grouped = backups
            .Where(b => b.Readable)
            .Select(b => (Backup: b, Day: DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(b.CreatedAt, zone).DateTime)))
            .Where(x => x.Day >= from && x.Day <= to)
            .GroupBy(x => (x.Day, x.Backup.Trigger))
            .Select(g => new HistoryDay(g.Key.Day, g.Key.Trigger, g.Count(), g.Sum(x => x.Backup.Size),
                g.Sum(x => x.Backup.DatabaseBytes ?? 0), g.Sum(x => x.Backup.FilesBytes ?? 0),
                g.Any(x => x.Backup.Duration is not null)
                    ? g.Where(x => x.Backup.Duration is not null).Average(x =>
                    x.Backup.Duration!.Value.TotalSeconds) : null))
            .OrderBy(d => d.Date).ThenBy(d => d.Trigger)
            .ToList();
        var fromTime = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue),
            zone.GetUtcOffset(from.ToDateTime(TimeOnly.MinValue)));
        return new BackupHistoryReport(zone.Id, from, to, grouped,
            drills.Where(d => d.StartedAt >= fromTime).OrderBy(d => d.StartedAt).ToList());
    }
}
