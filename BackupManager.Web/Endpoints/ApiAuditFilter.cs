using BackupManager.Core.Audit;
using BackupManager.Web.Services;

namespace BackupManager.Web.Endpoints;

/// <summary>Records every API call (who, from where, what, which status) in the audit log.</summary>
public sealed class ApiAuditFilter(AuditLog audit) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var actor = ActorFromHttp.From(http);
        var target = $"{http.Request.Method} {http.Request.Path}";
        try
        {
            var result = await next(context);
            var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
            audit.Record(actor.Name, actor.Address, "api", target, status < 400 ? AuditOutcome.Succeeded
                : AuditOutcome.Refused, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return result;
        }
        catch (Exception e)
        {
            audit.Record(actor.Name, actor.Address, "api", target, AuditOutcome.Failed, e.GetType().Name);
            throw;
        }
    }
}
