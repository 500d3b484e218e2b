using BackupManager.Core.Pitr;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BackupManager.Web.Endpoints;

/// <summary>
/// /api/v1/pitr: point-in-time recovery's state (the window that can be restored, the WAL receiver, its lag, what
/// its slot holds on the server, the last base backup). Restores to a time go through POST /api/v1/backups/restore
/// with <c>to_time</c>, like every restore. Same rules as every resource: manage-backups, audited, CSRF.
/// </summary>
public static class PitrEndpoints
{
    public static IEndpointRouteBuilder MapPitrApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapManagedGroup("/api/v1/pitr", "Point-in-time recovery");
        group.MapGet("/", StatusAsync).WithName("PitrStatus").WithSummary(
            "The restorable window (from/to), the WAL receiver, its lag in seconds, the bytes its slot keeps on the "
            + "database server, the last base backup and any problem; enabled is Backup__Pitr__Enabled.");
        return app;
    }

    private static async Task<Ok<DataEnvelope<PitrDto>>> StatusAsync(PitrStatusReader reader,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(new DataEnvelope<PitrDto>(PitrDto.From(await reader.ReadAsync(cancellationToken))));
}
