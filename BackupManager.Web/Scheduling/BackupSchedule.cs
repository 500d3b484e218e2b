using BackupManager.Core;
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
