using System.Text.Encodings.Web;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Identity;

/// <summary>Authenticates <c>Authorization: Bearer bm_…</c> as the token's user, with that user's current
/// claims.</summary>
public sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    PersonalAccessTokenService tokens, UserManager<ApplicationUser> users,
        IUserClaimsPrincipalFactory<ApplicationUser> principals, TokenClaimsCache claimsCache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PersonalAccessToken";
    private const string DatabaseUnavailable = "BackupManager.TokenDatabaseUnavailable";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        IEnumerable<System.Security.Claims.Claim> claims;
        // Every query is inside: a restore can swap the user database away between any two of them.
        try
        {
            var user = await tokens.FindUserAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
            if (user is null) return AuthenticateResult.Fail("The token is unknown or revoked.");
            if (await users.IsLockedOutAsync(user)) return AuthenticateResult.Fail("The token's user is locked out.");
            claims = await claimsCache.GetAsync(user, async u => (await principals.CreateAsync(u)).Claims);
        }
        catch (Exception e) when (IsDatabaseUnavailable(e))
        {
            // The user database is away for a moment (a restore swaps it): say so instead of claiming a bad token.
            Context.Items[DatabaseUnavailable] = true;
            return AuthenticateResult.Fail("The user database is unavailable.");
        }
        // Marked with this scheme, so CSRF checks and the audit log can tell token calls from cookie calls.
        var identity = new System.Security.Claims.ClaimsIdentity(claims, SchemeName,
            System.Security.Claims.ClaimTypes.Name, System.Security.Claims.ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new System.Security.Claims.ClaimsPrincipal(
            identity), SchemeName));
    }

    /// <summary>True for any failure caused by the database being unreachable, however EF Core wrapped it.</summary>
    private static bool IsDatabaseUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is Npgsql.NpgsqlException) return true;
        return false;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(DatabaseUnavailable))
        {
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            Response.Headers.RetryAfter = "2";
            return Task.CompletedTask;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
