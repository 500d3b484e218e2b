using System.Security.Claims;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace BackupManager.Web.Identity;

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
