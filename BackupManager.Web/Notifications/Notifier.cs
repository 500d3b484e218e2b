namespace BackupManager.Web.Notifications;

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
