using Microsoft.Extensions.Options;

namespace BackupManager.Web.Notifications;

/// <summary>POSTs the notification as JSON to a URL, retrying with exponential backoff on failure.</summary>
public sealed class WebhookChannel(IHttpClientFactory clients, IOptions<NotificationOptions> options,
    ILogger<WebhookChannel> logger) : INotificationChannel
{
    private WebhookOptions Settings => options.Value.Webhook;

    public string Name => "webhook";
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Settings.Url);

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var body = new
        {
            kind = notification.Kind,
            subject = notification.Subject,
            message = notification.Message,
            at = notification.At.UtcDateTime,
            source = "BackupManager",
        };
        var client = clients.CreateClient(nameof(WebhookChannel));
        var delay = Settings.FirstBackoff;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await client.PostAsJsonAsync(Settings.Url, body, cancellationToken);
                response.EnsureSuccessStatusCode();
                return;
            }
            catch (HttpRequestException e) when (attempt < Settings.Retries)
            {
                logger.LogWarning("Webhook attempt {Attempt} failed ({Reason}); retrying in {Delay}", attempt + 1,
                    e.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay *= 2;
            }
        }
    }
}
