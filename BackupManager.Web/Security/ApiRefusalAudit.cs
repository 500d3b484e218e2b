using BackupManager.Core.Audit;
using BackupManager.Web.Services;
using BackupManager.Web.Identity;

namespace BackupManager.Web.Security;

/// <summary>
/// Every API call refused for authentication (401) or permission (403) goes into the audit log with the caller's
/// address and, for a bearer token, only its public prefix (the first 10 characters, as the token list shows them):
/// a token being tried from somewhere, or a revoked one still in use, is then visible to the administrators. At most
/// <see cref="PerAddressPerMinute"/> refusals per address and minute are written (then one line saying more were
/// left out). They go to the audit log's refusals file (<see cref="AuditLog.RecordRefusal"/>): no flood of anonymous
/// requests, from however many addresses, can rotate the record of real actions out of <c>audit.log</c>.
/// </summary>
public static class ApiRefusalAudit
{
    public const int PerAddressPerMinute = 20;

    public static WebApplication UseApiRefusalAudit(this WebApplication app)
    {
        var audit = app.Services.GetRequiredService<AuditLog>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var recent = new System.Collections.Concurrent.ConcurrentDictionary<string,
            (long Minute, int Count)>(StringComparer.Ordinal);
        app.Use(async (context, next) =>
        {
            await next(context);
            var status = context.Response.StatusCode;
            if (status is not (StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
                || !context.Request.Path.StartsWithSegments("/api")) return;
            var actor = ActorFromHttp.From(context);
            var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
            if (recent.Count > 10_000) recent.Clear(); // a spray of addresses: start counting again rather than grow
            var (_, count) = recent.AddOrUpdate(actor.Address ?? "unknown", _ => (minute, 1),
                (_, seen) => seen.Minute == minute ? (minute, seen.Count + 1) : (minute, 1));
            if (count > PerAddressPerMinute + 1) return;
            if (count == PerAddressPerMinute + 1)
            {
                audit.RecordRefusal("anonymous", actor.Address, "api", null, AuditOutcome.Refused,
                    $"more than {PerAddressPerMinute} refused API calls from this address this minute; the rest of "
                        + $"the minute is not recorded");
                return;
            }
            var authorization = context.Request.Headers.Authorization.ToString();
            var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? authorization[7..].Trim() : null;
            var who = status == StatusCodes.Status403Forbidden ? actor.Name
                : token is null ? "anonymous"
                : $"token {(token.StartsWith(PersonalAccessTokenService.TokenPrefix, StringComparison.Ordinal)
                    && token.Length >= 10 ? token[..10] : "(not a BackupManager token)")}";
            audit.RecordRefusal(who, actor.Address, "api", $"{context.Request.Method} {context.Request.Path}",
                AuditOutcome.Refused,
                status == StatusCodes.Status401Unauthorized
                    ? "401: not signed in, or the token is unknown, revoked or expired"
                    : "403: no manage-backups permission");
        });
        return app;
    }
}
