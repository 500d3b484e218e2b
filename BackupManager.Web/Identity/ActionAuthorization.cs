using BackupManager.Core.Jobs;
using BackupManager.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Identity;

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
