namespace BackupManager.Web.Notifications;

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
