using BackupManager.Core;
using Microsoft.Extensions.Options;
using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>One schedule: its name, the trigger its backups carry, and its cron expression in the clinic's time
/// zone.</summary>
public sealed class BackupSchedule
{
    public BackupSchedule(string name, BackupTrigger trigger, string unixExpression, TimeZoneInfo timeZone)
    {
        Name = name;
        Trigger = trigger;
        UnixExpression = unixExpression;
        TimeZone = timeZone;
        Cron = CronExpression.Parse(unixExpression, CronFormat.Unix).WithTimeZone(timeZone);
    }

    public string Name { get; }
    public BackupTrigger Trigger { get; }
    public string UnixExpression { get; }
    public TimeZoneInfo TimeZone { get; }
    public CronExpression Cron { get; }

    public DateTimeOffset? NextRunAfter(DateTimeOffset time) => Cron.GetNextValidTimeAfter(time);

    /// <summary>The latest fire time at or before <paramref name="now"/>, searching back up to a year.</summary>
    public DateTimeOffset? PreviousRun(DateTimeOffset now)
    {
        foreach (var lookBack in new[] { TimeSpan.FromDays(1), TimeSpan.FromDays(8), TimeSpan.FromDays(32),
            TimeSpan.FromDays(367) })
        {
            DateTimeOffset? previous = null;
            var cursor = Cron.GetNextValidTimeAfter(now - lookBack);
            while (cursor is { } fire && fire <= now)
            {
                previous = fire;
                cursor = Cron.GetNextValidTimeAfter(fire);
            }
            if (previous is not null) return previous;
        }
        return null;
    }
}

/// <summary>The daily and weekly schedules built from the validated <see cref="ScheduleOptions"/>.</summary>
public sealed class BackupScheduleCatalog(IOptions<ScheduleOptions> options)
{
    public const string Daily = "daily";
    public const string Weekly = "weekly";

    public IReadOnlyList<BackupSchedule> All { get; } =
    [
        new(Daily, BackupTrigger.Daily, options.Value.Daily, options.Value.ResolveTimeZone()),
        new(Weekly, BackupTrigger.Weekly, options.Value.Weekly, options.Value.ResolveTimeZone()),
    ];

    public BackupSchedule Get(string name) => All.Single(s => s.Name == name);
}

/// <summary>
/// Decides whether a schedule missed its last slot while the app was down. A slot is covered when a backup of the
/// schedule's kind exists that was made at or after the slot, so the decision survives restarts and restores, and a
/// week of downtime gives one catch-up run, not seven. A slot before <paramref name="keptSince"/> (when this backup
/// folder's schedules began, see <see cref="ScheduleHistory.KeptSince"/>) was never missed: a new install catches
/// nothing up.
/// </summary>
public static class CatchUpPlanner
{
    public static DateTimeOffset? MissedSlot(BackupSchedule schedule, IEnumerable<BackupInfo> backups,
        DateTimeOffset now,
        DateTimeOffset keptSince)
    {
        if (schedule.PreviousRun(now) is not { } slot || slot < keptSince) return null;
        var newest = backups.Where(b => b.Trigger == schedule.Trigger).Select(b => (DateTimeOffset?)b.CreatedAt).Max();
        return newest is { } made && made >= slot ? null : slot;
    }
}
