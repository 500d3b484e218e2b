using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace BackupManager.Web.Security;

/// <summary>
/// The live page's connection (<c>/_blazor/negotiate</c>, the hub itself) answers only this site: a browser request
/// whose <c>Origin</c> names another host, or <c>null</c>, gets 403, so a foreign page cannot open a circuit with the
/// user's cookie even where SameSite does not hold. This site is the host the request was sent to (the port too when
/// the Host header carries one) and each of <c>Backup__Web__AllowedOrigins</c>, for a proxy that rewrites Host.
/// Requests without an Origin come from no browser page and pass.
/// </summary>
public static class BlazorOriginCheck
{
    public static WebApplication UseBlazorOriginCheck(this WebApplication app)
    {
        var allowed = app.Services.GetRequiredService<IOptions<WebHardeningOptions>>().Value.AllowedOrigins
            .Select(o => o.Trim().TrimEnd('/')).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BlazorOriginCheck));
        app.Use(async (context, next) =>
        {
            var origin = context.Request.Headers[HeaderNames.Origin].ToString();
            if (!context.Request.Path.StartsWithSegments("/_blazor") || origin.Length == 0
                || IsThisSite(origin, context.Request) || allowed.Contains(origin.TrimEnd('/')))
            {
                await next(context);
                return;
            }
            logger.LogWarning("Refused a live-page connection from origin {Origin} to {Host}",
                origin, context.Request.Host.Value);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("Refused: this page belongs to another site. If BackupManager is "
                + "reached under another name than the one its requests carry, add that origin to "
                + "Backup__Web__AllowedOrigins__0.");
        });
        return app;
    }

    /// <summary>Same host; same port when the Host header names one (without, a proxy's scheme decides it).</summary>
    public static bool IsThisSite(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return false;
        var host = request.Host;
        return host.HasValue && string.Equals(uri.IdnHost, host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
            && (host.Port is null || host.Port == uri.Port);
    }
}
