namespace BackupManager.Web.Notifications;

/// <summary>What the clinic is told about: a scheduled backup failed, health turned bad, or it recovered.</summary>
public sealed record Notification(string Kind, string Subject, string Message, DateTimeOffset At)
{
    public const string BackupFailed = "backup-failed";
    public const string HealthBad = "health-bad";
    public const string HealthRecovered = "health-recovered";
    public const string DrillFailed = "drill-failed";
}
