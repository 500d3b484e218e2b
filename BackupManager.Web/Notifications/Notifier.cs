namespace BackupManager.Web.Notifications;

/// <summary>What the clinic is told about: a scheduled backup failed, health turned bad, or it recovered.</summary>
public sealed record Notification(string Kind, string Subject, string Message, DateTimeOffset At)
{
    public const string BackupFailed = "backup-failed";
    public const string HealthBad = "health-bad";
    public const string HealthRecovered = "health-recovered";
    public const string DrillFailed = "drill-failed";
}

/// <summary>
/// One way to reach people (e-mail, webhook). Contract: <see cref="SendAsync"/> throws when the message was not
/// delivered; the <see cref="Notifier"/> logs that and carries on, so a broken channel never breaks a backup.
/// </summary>
public interface INotificationChannel
{
    string Name { get; }
    bool IsConfigured { get; }
    Task SendAsync(Notification notification, CancellationToken cancellationToken);
}

/// <summary>Sends a notification through every configured channel; failures are logged, never thrown.</summary>
public sealed class Notifier(IEnumerable<INotificationChannel> channels, ILogger<Notifier> logger)
{
    public async Task NotifyAsync(Notification notification, CancellationToken cancellationToken = default)
    {
        foreach (var channel in channels.Where(c => c.IsConfigured))
        {
            try
            {
                await channel.SendAsync(notification, cancellationToken);
                logger.LogInformation("Sent {Kind} notification by {Channel}", notification.Kind, channel.Name);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogError(e, "The {Channel} notification channel failed to deliver a {Kind} notification",
                    channel.Name, notification.Kind);
            }
        }
    }
}
