using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;

namespace BackupManager.Web.Endpoints;

/// <summary>
/// Cross-site request forgery defence for the API: a state-changing request authenticated by the page's cookie must
/// carry the antiforgery token in the X-CSRF-TOKEN header. Bearer-token requests are not affected (a browser never
/// adds a token on its own).
/// </summary>
public sealed class CookieCsrfFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public const string HeaderName = "X-CSRF-TOKEN";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var safe = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
            || HttpMethods.IsOptions(http.Request.Method);
        if (!safe && http.User.Identity?.AuthenticationType == IdentityConstants.ApplicationScheme)
        {
            try { await antiforgery.ValidateRequestAsync(http); }
            catch (AntiforgeryValidationException)
            {
                return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Cross-site request refused",
                    $"Requests authenticated by the browser cookie must send the antiforgery token in the "
                        + $"{HeaderName} header. Scripts should use a personal access token instead.");
            }
        }
        return await next(context);
    }
}
