using System.Security.Claims;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Identity;

/// <summary>
/// Re-checks the connected user every 30 seconds while a circuit is open: the security stamp and the claims the account
/// store gives the user now, so a revoked permission, a deleted account or a restored database that no longer knows
/// this session signs the circuit out promptly. (Every page action also checks at once: <see
/// cref="IActionAuthorization"/>.)
/// </summary>
internal sealed class IdentityRevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory, IServiceScopeFactory scopeFactory, IOptions<IdentityOptions> options,
        IAuthorizationService authorization)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState,
        CancellationToken cancellationToken)
    {
        var principal = authenticationState.User;
        await using (var scope = scopeFactory.CreateAsyncScope())
        {
            var userManager = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            if (!await IsStillValidAsync(userManager, principal, options.Value)) return false;
        }
        // A circuit opened with the permission ends when the store no longer grants it; one opened without it is
        // unaffected.
        var hadPermission = (await authorization.AuthorizeAsync(principal, Permissions.ManageBackups)).Succeeded;
        return !hadPermission || await CurrentPermissions.StillHoldsAsync(scopeFactory, authorization, principal,
            options.Value) != false;
    }

    /// <summary>True when the principal's user still exists with the same security stamp.</summary>
    public static async Task<bool> IsStillValidAsync(UserManager<ApplicationUser> userManager,
        ClaimsPrincipal principal, IdentityOptions options)
    {
        try
        {
            var user = await userManager.GetUserAsync(principal);
            if (user is null) return false;
            if (!userManager.SupportsUserSecurityStamp) return true;
            return principal.FindFirstValue(
                options.ClaimsIdentity.SecurityStampClaimType) == await userManager.GetSecurityStampAsync(user);
        }
        catch (Npgsql.NpgsqlException)
        {
            // The database is briefly away (e.g. being swapped by a restore): keep the session until the next check.
            return true;
        }
    }
}
