using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Core.Offsite;
using BackupManager.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BackupManager.Web.Endpoints;

/// <summary>/api/v1/destinations: the off-site destinations, their state, and copying now. Same rules as the backups
/// resource.</summary>
public static class DestinationsEndpoints
{
    public static IEndpointRouteBuilder MapDestinationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapManagedGroup("/api/v1/destinations", "Destinations");
        group.MapGet("/", List).WithName("ListDestinations")
            .WithSummary("Each off-site destination: last copy, backups waiting, lag, check results.");
        group.MapPost("/{name}/copy", CopyAsync).WithName("CopyToDestination")
            .WithSummary("Copies what the destination lacks now, then applies its retention.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway);
        return app;
    }

    private static Ok<DataEnvelope<IReadOnlyList<DestinationDto>>> List(OffsiteService offsite, TimeProvider time)
    {
        var health = offsite.HealthChecks();
        var rows = offsite.GetStatus().Select(d => DestinationDto.From(d, time.GetUtcNow(),
            health.Where(c => c.Name == $"destination:{d.Name}"
                || c.Name.StartsWith($"destination:{d.Name}:", StringComparison.Ordinal)).All(c => c.Healthy)))
                .ToList();
        return TypedResults.Ok(new DataEnvelope<IReadOnlyList<DestinationDto>>(rows));
    }

    private static async Task<Results<Ok<DataEnvelope<CopyReportDto>>,
        ProblemHttpResult>> CopyAsync(string name, HttpContext http, BackupJobRunner jobs)
    {
        try
        {
            // A job like the page's "Copy now" (visible to every administrator while it runs); this call waits for it.
            var job = await jobs.WhenFinishedAsync(jobs.StartCopy(name, ActorFromHttp.From(http)).Id,
                http.RequestAborted);
            if (job.Copies is not [var report])
                throw new BackupException(job.ErrorKind ?? BackupErrorKind.Environment,
                    job.Error ?? "The copy failed; see the server log.");
            if (report.Error is not null) throw new BackupException(BackupErrorKind.Destination, report.Error);
            return TypedResults.Ok(new DataEnvelope<CopyReportDto>(new CopyReportDto(report.Destination, report.Copied,
                report.BytesSent, report.BytesReused, report.Removed, report.Error)));
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }
}
