using System.Security.Claims;
using BackupManager.Core.Jobs;
using BackupManager.Web.Backups;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Identity;

/// <summary>
/// The check every page action makes when it runs (create, restore confirm, delete, pin, upload, token create and
/// revoke): does the circuit's user still hold manage-backups, by the account store now rather than by the claims the
/// circuit was opened with?
/// </summary>
public interface IActionAuthorization
{
    /// <summary>
    /// The acting user when the permission still holds; otherwise null, after sending the browser to the
    /// access-denied page, which ends the circuit and every dialog it had open.
    /// </summary>
    Task<Actor?> AuthorizeAsync();
}

internal sealed class ActionAuthorization(AuthenticationStateProvider state, IServiceScopeFactory scopes,
    IAuthorizationService authorization,
    NavigationManager navigation, IOptions<IdentityOptions> options, ILogger<ActionAuthorization> logger)
        : IActionAuthorization
{
    public async Task<Actor?> AuthorizeAsync()
    {
        var principal = (await state.GetAuthenticationStateAsync()).User;
        if (await CurrentPermissions.StillHoldsAsync(scopes, authorization, principal,
            options.Value) != false) return ActorFromHttp.From(principal, "web");
        logger.LogWarning(
            "A page action by {User} was refused: the manage-backups permission was withdrawn while the page was open",
            principal.Identity?.Name);
        navigation.NavigateTo("Account/AccessDenied", forceLoad: true);
        return null;
    }
}

/// <summary>What the account store says of a signed-in principal now.</summary>
public static class CurrentPermissions
{
    /// <summary>
    /// True when the principal's user still exists with the same security stamp and, with the claims the store gives it
    /// now, satisfies the manage-backups policy; false when not; null when the store cannot be asked (the database is
    /// being swapped by a restore), which callers treat as "unchanged".
    /// </summary>
    public static async Task<bool?> StillHoldsAsync(IServiceScopeFactory scopes, IAuthorizationService authorization,
        ClaimsPrincipal principal, IdentityOptions options)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var user = await users.GetUserAsync(principal);
            if (user is null) return false;
            if (users.SupportsUserSecurityStamp && principal.FindFirstValue(
                options.ClaimsIdentity.SecurityStampClaimType) != await users.GetSecurityStampAsync(user))
                return false;
            var current = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<ApplicationUser>>()
                .CreateAsync(user);
            return (await authorization.AuthorizeAsync(current, Permissions.ManageBackups)).Succeeded;
        }
        catch (Npgsql.NpgsqlException)
        {
            return null;
        }
    }
}
