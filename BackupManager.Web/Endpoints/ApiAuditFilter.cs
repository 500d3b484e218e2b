using BackupManager.Core.Audit;
using BackupManager.Web.Services;

namespace BackupManager.Web.Endpoints;

/// <summary>
/// Records every API call (who, from where, what, which status) in the audit log. A call that may change something
/// answers only once its line is on disk; a read (GET, HEAD) answers at once and its line follows in the log writer's
/// next batch (within one fsync), so reads never wait on the disk a running create keeps busy.
/// </summary>
public sealed class ApiAuditFilter(AuditLog audit) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var actor = ActorFromHttp.From(http);
        var target = $"{http.Request.Method} {http.Request.Path}";
        var read = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        Task recorded;
        try
        {
            var result = await next(context);
            var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
            recorded = audit.RecordAsync(actor.Name, actor.Address, "api", target, status < 400
                ? AuditOutcome.Succeeded : AuditOutcome.Refused,
                status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!read) await recorded;
            return result;
        }
        catch (Exception e)
        {
            recorded = audit.RecordAsync(actor.Name, actor.Address, "api", target, AuditOutcome.Failed,
                e.GetType().Name);
            if (!read) await recorded;
            throw;
        }
    }
}
