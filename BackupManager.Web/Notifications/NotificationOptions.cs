namespace BackupManager.Web.Notifications;

/// <summary>Backup:Notifications: where failure and health notifications go. Secrets come from the environment, never
/// the repo.</summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Backup:Notifications";
    public SmtpOptions Smtp { get; set; } = new();
    public WebhookOptions Webhook { get; set; } = new();
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    /// <summary>None, Auto, StartTls, StartTlsWhenAvailable or SslOnConnect.</summary>
    public string Security { get; set; } = "StartTls";
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string From { get; set; } = "backupmanager@localhost";
    public List<string> To { get; set; } = [];
}

public sealed class WebhookOptions
{
    public string? Url { get; set; }
    /// <summary>Attempts after the first one; each waits twice as long as the previous.</summary>
    public int Retries { get; set; } = 3;
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(2);
}
