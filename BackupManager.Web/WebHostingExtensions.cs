using System.Text.Json;
using System.Text.Json.Serialization;
using BackupManager.Web.Services;
using BackupManager.Web.Components;
using BackupManager.Web.Components.Account;
using BackupManager.Web.Endpoints;
using BackupManager.Web.Identity;
using BackupManager.Web.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using MudBlazor.Services;

namespace BackupManager.Web;

/// <summary>The web front ends: the Blazor pages, the /api/v1 endpoints, OpenAPI and the health probe.</summary>
public static class WebHostingExtensions
{
    public static WebApplicationBuilder AddWebFrontEnds(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        // Snackbars at the bottom: on a phone the top one covered the page's title.
        services.AddMudServices(
            mud => mud.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomCenter);
        services.AddProblemDetails();
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
        });
        services.AddAntiforgery(options => options.HeaderName = CookieCsrfFilter.HeaderName);
        services.AddOptions<ApiOptions>().Configure(options =>
        {
            if (long.TryParse(builder.Configuration["Backup:MaxUploadBytes"], out var limit)
                && limit > 0) options.MaxUploadBytes = limit;
        });
        services.AddSignInRateLimiting(builder.Configuration);
        builder.AddWebHardening();
        services.AddSingleton<AuditedOperations>();
        services.AddSingleton<HistoryService>();
        services.AddSingleton<BackupsPageData>();
        services.AddSingleton<ClinicClock>();
        services.AddSingleton<Scheduling.ScheduleOverview>();
        return builder;
    }

    public static WebApplication UseWebFrontEnds(this WebApplication app)
    {
        app.UseWebHardening();
        if (!app.Environment.IsDevelopment()) app.UseExceptionHandler("/Error", createScopeForErrors: true);
        // APIs answer empty error responses with problem details; pages get the not-found page.
        app.UseWhen(IsMachinePath, api => api.UseStatusCodePages());
        app.UseWhen(c => !IsMachinePath(c), pages => pages.UseStatusCodePagesWithReExecute("/not-found",
            createScopeForStatusCodePages: true));
        app.UseRateLimiter();
        app.UseApiRefusalAudit();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        // WebHardening's policy already forbids every frame ancestor; Blazor's own frame-ancestors header would be a
        // second CSP.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        app.MapAccountEndpoints();
        app.MapBackupsApi();
        app.MapDestinationsApi();
        app.MapPitrApi();
        app.MapOpenApi();
        // Anonymous probes: status only ("Healthy" / "Unhealthy", 200 / 503); details need the permission.
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = check => check.Tags.Contains("backups") })
            .AllowAnonymous();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        return app;
    }

    /// <summary>Paths read by programs, which get status codes and problem details rather than pages and
    /// redirects.</summary>
    public static bool IsMachinePath(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/openapi")
            || context.Request.Path.StartsWithSegments("/health");
}
