using BackupManager.Core.Audit;
using BackupManager.Web.Services;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Components.Account;

/// <summary>The account endpoints that are not pages: sign-out, and the sign-out after a restore replaced the user
/// store.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // A form post with an antiforgery token (minimal APIs check it for form-bound parameters).
        app.MapPost("/Account/Logout", async (HttpContext http, SignInManager<ApplicationUser> signIn, AuditLog audit, [
            Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl) =>
        {
            var actor = ActorFromHttp.From(http);
            await signIn.SignOutAsync();
            audit.Record(actor.Name, actor.Address, "logout", null, AuditOutcome.Succeeded);
            return TypedResults.LocalRedirect("~/Account/Login");
        }).RequireAuthorization();

        // After a restore, the page sends its user here; the session ends only if the restored database no longer
        // knows it (so a cross-site link cannot sign anyone out who is still valid).
        app.MapGet("/Account/AfterRestore", async (HttpContext http, UserManager<ApplicationUser> users,
            SignInManager<ApplicationUser> signIn,
            IOptions<IdentityOptions> options, Guid? job) =>
        {
            // Anonymous on purpose: the cookie check already refuses a session the restored database does not know,
            // and this page's job is to say why before the sign-in form.
            if (http.User.Identity?.IsAuthenticated == true
                && await Identity.IdentityRevalidatingAuthenticationStateProvider.IsStillValidAsync(users, http.User,
                options.Value))
                // Only a parsed id goes on, so the page can report that restore: nothing the link carried is echoed.
                return TypedResults.LocalRedirect(job is { } id ? $"~/backups?restored={id}" : "~/backups");
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/Account/Login?message="
                + Uri.EscapeDataString(
                "The restored database does not have your session any more. Please sign in again."));
        }).AllowAnonymous();
        return app;
    }
}
