using BackupManager.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace BackupManager.Web.Identity;

/// <summary>
/// ASP.NET Core Identity on PostgreSQL, the cookie for the page, personal access tokens for scripts, and one policy
/// per permission. The fallback policy requires manage-backups, so an endpoint is protected unless it says otherwise.
/// </summary>
public static class IdentityHostingExtensions
{
    public const string CookieOrTokenScheme = "CookieOrToken";

    public static WebApplicationBuilder AddIdentityAndPermissions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        // The store's own normalizer (registered scoped, but stateless): the throttle keys on the name the store finds.
        services.AddSingleton(sp =>
        {
            using var scope = sp.CreateScope();
            var normalizer = scope.ServiceProvider.GetRequiredService<ILookupNormalizer>();
            return new SignInThrottle(sp.GetRequiredService<TimeProvider>(), normalizer);
        });
        services.AddScoped<IActionAuthorization, ActionAuthorization>();
        services.AddSingleton<TokenClaimsCache>();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieOrTokenScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddPolicyScheme(CookieOrTokenScheme, "Cookie or personal access token", options =>
                options.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.ToString()
                        .StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? PersonalAccessTokenHandler.SchemeName
                        : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions,
                PersonalAccessTokenHandler>(PersonalAccessTokenHandler.SchemeName, null)
            .AddIdentityCookies();

        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/Account/Login";
            options.LogoutPath = "/Account/Logout";
            options.AccessDeniedPath = "/Account/AccessDenied";
            options.Cookie.Name = "BackupManager.Auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            // APIs answer with status codes; only pages are redirected to the login form.
            options.Events.OnRedirectToLogin = context => StatusOrRedirect(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context
                => StatusOrRedirect(context, StatusCodes.Status403Forbidden);
            // Signing in honours ?ReturnUrl= itself: only a plain local path may reach the Location header
            // (a non-ASCII one was a 500).
            options.Events.OnRedirectToReturnUrl = context =>
            {
                var local = IdentityRedirectManager.IsLocal(context.RedirectUri);
                context.Response.Redirect(local ? context.RedirectUri : "/");
                return Task.CompletedTask;
            };
        });
        // Revoked permissions and restored databases reach open cookies within a minute.
        // Every cookie request re-reads the user (a cheap lookup): a withdrawn permission or a changed stamp takes
        // effect at once.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero);

        builder.AddUserAccounts().AddSignInManager<TimingSafeSignInManager>().AddDefaultTokenProviders();

        var manageBackups = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(CookieOrTokenScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(Permissions.ClaimType, Permissions.ManageBackups)
            .Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(Permissions.ManageBackups, manageBackups)
            .SetFallbackPolicy(manageBackups);

        return builder;
    }

    /// <summary>
    /// The account store — users, roles, password rules and personal access tokens in PostgreSQL — without anything
    /// of HTTP: what the web app and the account commands (app:create-admin, app:create-token, …) share.
    /// </summary>
    public static IdentityBuilder AddUserAccounts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // Accounts never live in the database that is backed up (see AccountsDatabase).
        var connectionString = AccountsDatabase.ConnectionString(builder.Configuration);
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        services.AddScoped<UserAccountService>();
        services.AddScoped<PersonalAccessTokenService>();
        return services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.SignIn.RequireConfirmedAccount = false;
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 12;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                // No lockout on failed passwords (anyone knowing an address could keep its owner and tokens out):
                // SignInThrottle slows guessing instead.
                options.Lockout.AllowedForNewUsers = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<ApplicationDbContext>();
    }

    private static Task StatusOrRedirect(
        Microsoft.AspNetCore.Authentication.RedirectContext<
            Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (WebHostingExtensions.IsMachinePath(context.HttpContext))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
