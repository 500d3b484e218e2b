namespace BackupManager.Web.Notifications;

/// <summary>Backup:Notifications: where failure and health notifications go. Secrets come from the environment, never
/// the repo.</summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Backup:Notifications";
    public SmtpOptions Smtp { get; set; } = new();
    public WebhookOptions Webhook { get; set; } = new();
}
