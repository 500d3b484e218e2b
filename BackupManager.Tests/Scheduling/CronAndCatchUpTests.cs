using BackupManager.Core;
using BackupManager.Web.Scheduling;

namespace BackupManager.Tests.Scheduling;

public sealed class CronAndCatchUpTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private static List<DateTimeOffset> Fires(string unix, DateTimeOffset from, int count, TimeZoneInfo? zone = null)
    {
        var schedule = new BackupSchedule("test", BackupTrigger.Daily, unix, zone ?? TimeZoneInfo.Utc);
        var fires = new List<DateTimeOffset>();
        var cursor = from;
        while (fires.Count < count && schedule.NextRunAfter(cursor) is { } next)
        {
            fires.Add(next);
            cursor = next;
        }
        return fires;
    }

    private static DateTimeOffset Utc(int y, int m, int d, int h = 0, int min = 0) =>
        new(y, m, d, h, min, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 0 * * *", "2026-11-28T00:00", "2026-11-29T00:00")]
    [InlineData("0 2 * * 0", "2026-11-29T02:00", "2026-12-06T02:00")]          // Sundays at 2 AM
    [InlineData("0 2 * * 7", "2026-11-29T02:00", "2026-12-06T02:00")]          // 7 is Sunday too
    [InlineData("*/15 * * * *", "2026-11-27T10:15", "2026-11-27T10:30")]
    [InlineData("30 8-9 * * *", "2026-11-28T08:30", "2026-11-28T09:30")]       // a range of hours
    [InlineData("0 12 * * 1-5", "2026-11-27T12:00", "2026-11-30T12:00")]       // weekdays: Friday, then Monday
    [InlineData("0 0 1,15 * *", "2026-12-01T00:00", "2026-12-15T00:00")]      // a list of days
    [InlineData("45 23 * * MON,WED", "2026-11-30T23:45", "2026-12-02T23:45")]
    public void Unix_cron_expressions_fire_when_crontab_would(string unix, string first, string second)
    {
        var fires = Fires(unix, Utc(2026, 11, 27, 10, 7), 2);
        Assert.Equal([DateTimeOffset.Parse(first + "Z"), DateTimeOffset.Parse(second + "Z")], fires);
    }

    [Fact]
    public void The_weekly_default_converts_to_the_quartz_form()
    {
        Assert.Equal("0 0 2 ? * SUN", UnixCron.ToQuartz("0 2 * * 0"));
        Assert.Equal("0 0 0 * * ?", UnixCron.ToQuartz("0 0 * * *"));
    }

    [Theory]
    [InlineData("every night")]
    [InlineData("0 0 * *")]
    [InlineData("61 0 * * *")]
    [InlineData("0 25 * * *")]
    [InlineData("0 0 * * 9")]
    [InlineData("0 0 0 * * *")]
    public void Invalid_expressions_are_reported(string unix) => Assert.NotNull(UnixCron.Problem(unix));

    [Fact]
    public void A_2_AM_schedule_runs_once_on_each_night_the_clocks_change()
    {
        // 29 March 2026: 02:00 does not exist in Paris (clocks jump to 03:00). 25 October 2026: 02:00–02:59 happens
        // twice.
        var spring = Fires("0 2 * * *", new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.FromHours(1)), 3, Paris);
        var autumn = Fires("0 2 * * *", new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.FromHours(2)), 3, Paris);

        Assert.Equal(3, spring.Select(f => TimeZoneInfo.ConvertTime(f, Paris).Date).Distinct().Count());
        Assert.Contains(spring, f => TimeZoneInfo.ConvertTime(f, Paris).Date == new DateTime(2026, 3, 29));
        Assert.Equal(3, autumn.Select(f => TimeZoneInfo.ConvertTime(f, Paris).Date).Distinct().Count());
        Assert.Single(autumn, f => TimeZoneInfo.ConvertTime(f, Paris).Date == new DateTime(2026, 10, 25));
        // An ordinary night it is 2 AM local time, i.e. 01:00 UTC in winter.
        Assert.Contains(Utc(2026, 10, 26, 1), autumn);
    }

    private static BackupInfo Made(DateTimeOffset at, BackupTrigger trigger) =>
        new($"backup-{at:yyyy-MM-dd-HH-mm-ss}.zip", 1, at, trigger, ["database"], null, false, true, 0);

    [Fact]
    public void A_week_of_downtime_gives_one_catch_up_run_per_schedule()
    {
        var daily = new BackupSchedule("daily", BackupTrigger.Daily, "0 0 * * *", Paris);
        var weekly = new BackupSchedule("weekly", BackupTrigger.Weekly, "0 2 * * 0", Paris);
        var existing = new[] { Made(Utc(2026, 11, 19, 23), BackupTrigger.Daily),
            Made(Utc(2026, 11, 15, 1), BackupTrigger.Weekly) };
        var now = Utc(2026, 11, 27, 9);

        // midnight in Paris
        Assert.Equal(Utc(2026, 11, 26, 23), CatchUpPlanner.MissedSlot(daily, existing, now, DateTimeOffset.MinValue));
        // last Sunday, 2 AM Paris
        Assert.Equal(Utc(2026, 11, 22, 1), CatchUpPlanner.MissedSlot(weekly, existing, now, DateTimeOffset.MinValue));

        // After the catch-up backups exist, nothing more is due until the next slot.
        var after = existing.Append(Made(now.AddMinutes(1), BackupTrigger.Daily))
            .Append(Made(now.AddMinutes(2), BackupTrigger.Weekly)).ToList();
        Assert.Null(CatchUpPlanner.MissedSlot(daily, after, now.AddMinutes(3), DateTimeOffset.MinValue));
        Assert.Null(CatchUpPlanner.MissedSlot(weekly, after, now.AddMinutes(3), DateTimeOffset.MinValue));
    }

    [Fact]
    public void No_catch_up_when_a_backup_of_that_kind_covers_the_slot()
    {
        var daily = new BackupSchedule("daily", BackupTrigger.Daily, "0 0 * * *", TimeZoneInfo.Utc);
        var now = Utc(2026, 11, 27, 9);
        Assert.Null(CatchUpPlanner.MissedSlot(daily, [Made(Utc(2026, 11, 27, 0, 1), BackupTrigger.Daily)], now,
            DateTimeOffset.MinValue));
        // A manual backup does not stand in for the daily one.
        Assert.NotNull(CatchUpPlanner.MissedSlot(daily, [Made(Utc(2026, 11, 27, 0, 1), BackupTrigger.Manual)], now,
            DateTimeOffset.MinValue));
    }
}
