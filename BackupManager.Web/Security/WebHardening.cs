using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Security;

/// <summary>
/// HTTPS redirection and HSTS when asked for, forwarded headers only from configured proxies (so a client cannot spoof
/// its address into the audit log or another client's sign-in budget), Secure cookies on HTTPS, and security headers on
/// every response: nosniff, no referrer, no framing, and a content security policy Blazor Server and MudBlazor run
/// under (scripts from this origin only; inline styles, which MudBlazor's components set).
/// </summary>
public static class WebHardening
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src "
            + "'self' data:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplicationBuilder AddWebHardening(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WebHardeningOptions>()
            .Bind(builder.Configuration.GetSection(WebHardeningOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebHardeningOptions>, WebHardeningOptionsValidator>();
        var options = builder.Configuration.GetSection(WebHardeningOptions.SectionName).Get<WebHardeningOptions>()
            ?? new();
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the configured proxies: the defaults would trust anything on the loopback network.
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in options.KnownProxies)
                if (IPAddress.TryParse(proxy, out var address)) forwarded.KnownProxies.Add(address);
        });
        services.AddHsts(hsts =>
        {
            hsts.MaxAge = TimeSpan.FromDays(365);
            hsts.ExcludedHosts.Clear(); // the operator asked for HTTPS on whatever name the clinic uses
        });
        services.AddHttpsRedirection(https =>
        {
            https.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
            // Behind a TLS proxy the app itself listens on plain HTTP, so it cannot discover the port: 443 unless told.
            https.HttpsPort = int.TryParse(builder.Configuration["HTTPS_PORT"]
                ?? builder.Configuration["ASPNETCORE_HTTPS_PORT"], out var port) ? port : 443;
        });
        // Cookies carry the sign-in and antiforgery secrets: Secure whenever the request came over HTTPS (always when
        // required).
        var secure = options.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        services.ConfigureApplicationCookie(cookie => cookie.Cookie.SecurePolicy = secure);
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.SecurePolicy = secure;
            antiforgery.SuppressXFrameOptionsHeader = true; // DENY is set below for every response
        });
        return builder;
    }

    /// <summary>Goes first in the pipeline: the forwarded address and scheme must be known before anything uses
    /// them.</summary>
    public static WebApplication UseWebHardening(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WebHardeningOptions>>().Value;
        if (options.KnownProxies.Count > 0) app.UseForwardedHeaders();
        if (options.RequireHttps)
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return next(context);
        });
        app.UseBlazorOriginCheck();
        return app;
    }
}
