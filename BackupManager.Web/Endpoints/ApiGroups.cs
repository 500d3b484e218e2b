namespace BackupManager.Web.Endpoints;

/// <summary>The rules every /api/v1 resource shares: the manage-backups permission, auditing, CSRF for cookie
/// callers.</summary>
public static class ApiGroups
{
    public static RouteGroupBuilder MapManagedGroup(this IEndpointRouteBuilder app, string prefix, string tag)
        => app.MapGroup(prefix)
        .RequireAuthorization(BackupManager.Web.Identity.Permissions.ManageBackups)
        .AddEndpointFilter<ApiAuditFilter>()
        .AddEndpointFilter<CookieCsrfFilter>()
        .WithTags(tag)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden);
}
