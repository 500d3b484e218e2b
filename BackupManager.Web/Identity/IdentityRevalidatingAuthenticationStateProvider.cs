using System.Security.Claims;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Identity;

/// <summary>
/// Re-checks the security stamp of the connected user every minute while a circuit is open, so a revoked permission,
/// a deleted account or a restored database that no longer knows this session ends the session promptly.
/// </summary>
internal sealed class IdentityRevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory, IServiceScopeFactory scopeFactory, IOptions<IdentityOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var userManager = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return await IsStillValidAsync(userManager, authenticationState.User, options.Value);
    }

    /// <summary>True when the principal's user still exists with the same security stamp.</summary>
    public static async Task<bool> IsStillValidAsync(UserManager<ApplicationUser> userManager, ClaimsPrincipal principal, IdentityOptions options)
    {
        try
        {
            var user = await userManager.GetUserAsync(principal);
            if (user is null) return false;
            if (!userManager.SupportsUserSecurityStamp) return true;
            return principal.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType) == await userManager.GetSecurityStampAsync(user);
        }
        catch (Npgsql.NpgsqlException)
        {
            // The database is briefly away (e.g. being swapped by a restore): keep the session until the next check.
            return true;
        }
    }
}
