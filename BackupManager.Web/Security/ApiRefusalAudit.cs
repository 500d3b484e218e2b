using BackupManager.Core.Audit;
using BackupManager.Web.Backups;
using BackupManager.Web.Identity;

namespace BackupManager.Web.Security;

/// <summary>
/// Every API call refused for authentication (401) or permission (403) goes into the audit log with the caller's
/// address and, for a bearer token, only its public prefix (the first 10 characters, as the token list shows them):
/// a token being tried from somewhere, or a revoked one still in use, is then visible to the administrators.
/// </summary>
public static class ApiRefusalAudit
{
    public static WebApplication UseApiRefusalAudit(this WebApplication app)
    {
        var audit = app.Services.GetRequiredService<AuditLog>();
        app.Use(async (context, next) =>
        {
            await next(context);
            var status = context.Response.StatusCode;
            if (status is not (StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden) || !context.Request.Path.StartsWithSegments("/api")) return;
            var actor = ActorFromHttp.From(context);
            var authorization = context.Request.Headers.Authorization.ToString();
            var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
            var who = status == StatusCodes.Status403Forbidden ? actor.Name
                : token is null ? "anonymous"
                : $"token {(token.StartsWith(PersonalAccessTokenService.TokenPrefix, StringComparison.Ordinal) && token.Length >= 10 ? token[..10] : "(not a BackupManager token)")}";
            audit.Record(who, actor.Address, "api", $"{context.Request.Method} {context.Request.Path}", AuditOutcome.Refused,
                status == StatusCodes.Status401Unauthorized ? "401: not signed in, or the token is unknown, revoked or expired" : "403: no manage-backups permission");
        });
        return app;
    }
}
