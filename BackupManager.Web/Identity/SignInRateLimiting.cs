using System.Threading.RateLimiting;

namespace BackupManager.Web.Identity;

/// <summary>
/// Slows down password guessing and token probing per client address: sign-in form posts and bearer-token requests
/// each get their own budget per minute. Everything else is not limited. A refused request gets 429 with Retry-After.
/// </summary>
public static class SignInRateLimiting
{
    public sealed class Options
    {
        /// <summary>Sign-in attempts per address per minute (Backup__LoginAttemptsPerMinute).</summary>
        public int LoginAttemptsPerMinute { get; set; } = 10;
        /// <summary>Bearer-token requests per address per minute (Backup__TokenRequestsPerMinute).</summary>
        public int TokenRequestsPerMinute { get; set; } = 600;
    }

    public static IServiceCollection AddSignInRateLimiting(this IServiceCollection services,
        IConfiguration configuration)
    {
        var options = new Options();
        if (int.TryParse(configuration["Backup:LoginAttemptsPerMinute"], out var login)
            && login > 0) options.LoginAttemptsPerMinute = login;
        if (int.TryParse(configuration["Backup:TokenRequestsPerMinute"], out var token)
            && token > 0) options.TokenRequestsPerMinute = token;
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                if (WebHostingExtensions.IsMachinePath(context.HttpContext))
                    await Results.Problem(statusCode: 429, title: "Too many requests",
                        detail: "Too many requests from this address; wait a minute and try again.")
                        .ExecuteAsync(context.HttpContext);
                else
                    await context.HttpContext.Response.WriteAsync(
                        "Too many sign-in attempts from this address; wait a minute and try again.", cancellationToken);
            };
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                if (HttpMethods.IsPost(context.Request.Method) && IsSignIn(context))
                    return RateLimitPartition.GetFixedWindowLimiter("login:" + address,
                        _ => Window(options.LoginAttemptsPerMinute));
                if (context.Request.Headers.Authorization.ToString()
                    .StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                    return RateLimitPartition.GetFixedWindowLimiter("token:" + address,
                        _ => Window(options.TokenRequestsPerMinute));
                return RateLimitPartition.GetNoLimiter("other");
            });
        });
        return services;
    }

    /// <summary>
    /// Bound to the sign-in endpoint that routing chose, not to a spelling of its path: routing has already folded
    /// case,
    /// a trailing slash and percent-encoding, so every variant that reaches the sign-in form counts against one budget.
    /// </summary>
    private static bool IsSignIn(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } pattern }
        && string.Equals(pattern.Trim('/'), "Account/Login", StringComparison.OrdinalIgnoreCase);

    private static FixedWindowRateLimiterOptions Window(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };
}
