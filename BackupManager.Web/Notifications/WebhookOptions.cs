namespace BackupManager.Web.Notifications;

public sealed class WebhookOptions
{
    public string? Url { get; set; }
    /// <summary>Attempts after the first one; each waits twice as long as the previous.</summary>
    public int Retries { get; set; } = 3;
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(2);
}
