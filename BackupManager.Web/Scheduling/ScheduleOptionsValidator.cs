using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>Stops start-up with a message that names the setting when a cron expression or time zone is
/// invalid.</summary>
public sealed class ScheduleOptionsValidator : IValidateOptions<ScheduleOptions>
{
    public ValidateOptionsResult Validate(string? name, ScheduleOptions options)
    {
        var errors = new List<string>();
        foreach (var (setting, value) in new[] { ("BACKUP_SCHEDULE", options.Daily),
            ("Backup__WeeklySchedule", options.Weekly), ("Backup__Pitr__BaseBackupSchedule", options.BaseBackup),
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
