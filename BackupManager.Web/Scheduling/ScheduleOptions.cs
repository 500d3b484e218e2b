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
    /// <summary>When point-in-time recovery takes its base backup (Backup__Pitr__BaseBackupSchedule); runs only while
    /// Backup__Pitr__Enabled is true.</summary>
    public string BaseBackup { get; set; } = "0 2 * * 0";
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
        var baseBackup = configuration["Backup:Pitr:BaseBackupSchedule"];
        if (!string.IsNullOrWhiteSpace(baseBackup)) options.BaseBackup = baseBackup.Trim();
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
