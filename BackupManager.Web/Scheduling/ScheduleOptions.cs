using Microsoft.Extensions.Options;
using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// When scheduled backups run: 5-field Unix cron expressions in the clinic's time zone. The daily one comes from the
/// historical root key BACKUP_SCHEDULE.
/// </summary>
public sealed class ScheduleOptions
{
    public string Daily { get; set; } = "0 0 * * *";
    public string Weekly { get; set; } = "0 2 * * 0";
    /// <summary>When the restore drill runs (Backup__DrillSchedule); empty turns scheduled drills off.</summary>
    public string Drill { get; set; } = "0 3 * * 6";
    public bool DrillEnabled => !string.IsNullOrWhiteSpace(Drill);
    /// <summary>IANA time zone name; empty means the machine's.</summary>
    public string? TimeZone { get; set; }
    /// <summary>Whether the schedules run at all (Backup__SchedulesEnabled); the console commands never run
    /// them.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a scheduled run waits for a running operation before it is recorded as skipped
    /// (Backup__ScheduleWindow).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(2);
    /// <summary>How long after start the missed-run check happens (Backup__CatchUpDelay).</summary>
    public TimeSpan CatchUpDelay { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>How often the off-site copier looks for backups another process made (Backup__OffsitePoll); this
    /// process's own backups are handed to it when they are committed.</summary>
    public TimeSpan OffsitePoll { get; set; } = TimeSpan.FromMinutes(1);

    public static void Bind(IConfiguration configuration, ScheduleOptions options)
    {
        var daily = configuration["BACKUP_SCHEDULE"];
        if (!string.IsNullOrWhiteSpace(daily)) options.Daily = daily.Trim();
        var weekly = configuration["Backup:WeeklySchedule"];
        if (!string.IsNullOrWhiteSpace(weekly)) options.Weekly = weekly.Trim();
        // Present but empty turns the drill off; absent keeps the default.
        if (configuration["Backup:DrillSchedule"] is { } drill) options.Drill = drill.Trim();
        options.TimeZone = configuration["Backup:TimeZone"];
        if (bool.TryParse(configuration["Backup:SchedulesEnabled"], out var enabled)) options.Enabled = enabled;
        if (TimeSpan.TryParse(configuration["Backup:ScheduleWindow"],
            System.Globalization.CultureInfo.InvariantCulture, out var window)) options.Window = window;
        if (TimeSpan.TryParse(configuration["Backup:CatchUpDelay"], System.Globalization.CultureInfo.InvariantCulture,
            out var delay)) options.CatchUpDelay = delay;
        if (TimeSpan.TryParse(configuration["Backup:OffsitePoll"], System.Globalization.CultureInfo.InvariantCulture,
            out var poll)) options.OffsitePoll = poll;
    }

    public TimeZoneInfo ResolveTimeZone() =>
        string.IsNullOrWhiteSpace(TimeZone) ? TimeZoneInfo.Local : TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}

/// <summary>Stops start-up with a message that names the setting when a cron expression or time zone is
/// invalid.</summary>
public sealed class ScheduleOptionsValidator : IValidateOptions<ScheduleOptions>
{
    public ValidateOptionsResult Validate(string? name, ScheduleOptions options)
    {
        var errors = new List<string>();
        foreach (var (setting, value) in new[] { ("BACKUP_SCHEDULE", options.Daily),
            ("Backup__WeeklySchedule", options.Weekly),
            ("Backup__DrillSchedule", options.DrillEnabled ? options.Drill : "0 0 * * *") })
            if (UnixCron.Problem(value) is { } problem)
                errors.Add(
                    $"{setting}='{value}' is not a valid 5-field cron expression ({problem}). Example: '0 0 * * *' "
                    + $"runs every day at midnight.");
        foreach (var (setting, value) in new[] { ("Backup__ScheduleWindow", options.Window),
            ("Backup__CatchUpDelay", options.CatchUpDelay) })
            if (value < TimeSpan.Zero || value > TimeSpan.FromDays(30))
                errors.Add($"{setting}={value} must be between 00:00:00 and 30.00:00:00.");
        if (options.OffsitePoll < TimeSpan.FromSeconds(1) || options.OffsitePoll > TimeSpan.FromDays(1))
            errors.Add($"Backup__OffsitePoll={options.OffsitePoll} must be between 00:00:01 and 1.00:00:00.");
        if (!string.IsNullOrWhiteSpace(options.TimeZone))
        {
            try { TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone); }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                errors.Add(
                    $"Backup__TimeZone='{options.TimeZone}' is not a known time zone. Use an IANA name such as "
                    + $"Europe/Paris.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>5-field Unix cron (minute hour day-of-month month day-of-week, 0 and 7 = Sunday) read through Quartz's own
/// parser.</summary>
public static class UnixCron
{
    public static string? Problem(string expression)
    {
        if (expression.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Length != 5) return "expected 5 fields: minute hour day-of-month month day-of-week";
        try { CronExpression.Parse(expression, CronFormat.Unix); return null; }
        catch (FormatException e) { return e.Message; }
    }

    /// <summary>The Quartz spelling of a valid Unix expression, e.g. "0 2 * * 0" gives "0 0 2 ? * SUN".</summary>
    public static string ToQuartz(string expression) => CronExpression.Parse(expression, CronFormat.Unix)
        .CronExpressionString;
}
