using System.Security.Claims;
using BackupManager.Core.Jobs;
using BackupManager.Web.Identity;

namespace BackupManager.Web.Services;

/// <summary>The acting user of a request or circuit: e-mail (with "(token)" for bearer calls) and remote
/// address.</summary>
public static class ActorFromHttp
{
    public static Actor From(HttpContext context) => From(context.User, context.Connection.RemoteIpAddress?.ToString());

    public static Actor From(ClaimsPrincipal user, string? address)
    {
        var name = user.Identity?.Name ?? user.FindFirstValue(ClaimTypes.Email) ?? "anonymous";
        if (user.Identity?.AuthenticationType == PersonalAccessTokenHandler.SchemeName) name += " (token)";
        return new Actor(name, address);
    }
}
