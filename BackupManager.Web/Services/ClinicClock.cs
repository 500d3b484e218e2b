using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Services;

/// <summary>Shows times as the clinic reads them: its own time zone (Backup__TimeZone) and "3 hours ago".</summary>
public sealed class ClinicClock(IOptions<ScheduleOptions> schedule, TimeProvider time)
{
    private readonly TimeZoneInfo _zone = schedule.Value.ResolveTimeZone();

    /// <summary>The clinic's time zone, shown beside times (e.g. "Europe/Paris").</summary>
    public string Zone => _zone.Id;

    public TimeZoneInfo TimeZone => _zone;

    /// <summary>To the second, as a point in time is chosen and confirmed.</summary>
    public string LocalSeconds(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, _zone)
        .ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    public string Local(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, _zone)
        .ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    public string Ago(DateTimeOffset at)
    {
        var age = time.GetUtcNow() - at;
        return age switch
        {
            { TotalSeconds: < 60 } => "just now",
            { TotalMinutes: < 60 } => Plural((int)age.TotalMinutes, "minute"),
            { TotalHours: < 24 } => Plural((int)age.TotalHours, "hour"),
            { TotalDays: < 60 } => Plural((int)age.TotalDays, "day"),
            _ => Plural((int)(age.TotalDays / 30), "month"),
        };
    }

    private static string Plural(int n, string unit) => $"{n} {unit}{(n == 1 ? "" : "s")} ago";
}
