using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace BackupManager.Web.Notifications;

/// <summary>E-mail over SMTP with MailKit: host, port, TLS mode, optional credentials, one or more
/// recipients.</summary>
public sealed class SmtpChannel(IOptions<NotificationOptions> options) : INotificationChannel
{
    private SmtpOptions Settings => options.Value.Smtp;

    public string Name => "e-mail";
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Settings.Host) && Settings.To.Count > 0;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(Settings.From));
        foreach (var to in Settings.To) message.To.Add(MailboxAddress.Parse(to));
        message.Subject = $"[BackupManager] {notification.Subject}";
        message.Body = new TextPart("plain")
        {
            Text = $"{notification.Message}\n\nWhen: {notification.At:yyyy-MM-dd HH:mm:ss} UTC\nWhat to do: see "
                + $"docs/backup-procedures.md, \"When a notification says backups failed\".\n",
        };
        using var client = new SmtpClient();
        await client.ConnectAsync(Settings.Host!, Settings.Port,
            Enum.Parse<SecureSocketOptions>(Settings.Security, ignoreCase: true), cancellationToken);
        if (!string.IsNullOrEmpty(Settings.Username)) await client.AuthenticateAsync(Settings.Username,
            Settings.Password ?? "", cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}
