using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Web.Services;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace BackupManager.Web.Endpoints;

/// <summary>
/// /api/v1/backups: the REST resource scripts and the clinic's other systems use. Every route requires the
/// manage-backups permission (cookie or bearer token), answers errors as problem details, and is audited.
/// </summary>
public static class BackupsEndpoints
{
    public static IEndpointRouteBuilder MapBackupsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapManagedGroup("/api/v1/backups", "Backups");

        group.MapGet("/", ListAsync).WithName("ListBackups").WithSummary("Lists the backups, newest first.");
        group.MapPost("/", Create).WithName("CreateBackup").WithSummary("Starts a backup job.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/restore", RestoreAsync).WithName("RestoreBackup").WithSummary(
            "Starts a restore job: of a backup (filename) or to a point in time (to_time).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/download/{filename}", Download).WithName("DownloadBackup")
            .WithSummary(
            "Streams an archive; supports Range and If-None-Match. With ?encrypted=true: the archive encrypted to the "
            + "age recipients (name.zip.age).")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
                .Produces(StatusCodes.Status206PartialContent, contentType: "application/zip")
            .Produces(StatusCodes.Status304NotModified).ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{filename}", DeleteAsync).WithName("DeleteBackup").WithSummary("Deletes a backup.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/jobs/{id:guid}", GetJob).WithName("GetBackupJob")
            .WithSummary("A create or restore job's status.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/upload", UploadAsync).WithName("UploadBackup")
            .WithSummary("Adds an archive downloaded earlier (raw body), after verifying it.")
            .Accepts<Stream>("application/zip", "application/octet-stream")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
                .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/history", async (int? days, HistoryService history, CancellationToken cancellationToken) =>
                TypedResults.Ok(new DataEnvelope<HistoryDto>(HistoryDto.Of(await history.ReportAsync(days
                    ?? HistoryService.DefaultDays, cancellationToken)))))
            .WithName("BackupHistory").WithSummary(
                "Backups per day and trigger (size, database and files bytes, duration) and the restore drills, over "
                + "?days= (30).");
        group.MapGet("/health", HealthAsync).WithName("BackupHealth")
            .WithSummary("Every health check with its detail, and the schedules.");
        group.MapPost("/{filename}/pin", (string filename, HttpContext http, AuditedOperations operations) => PinAsync(
            filename, true, http, operations))
            .WithName("PinBackup").WithSummary("Protects a backup from automatic deletion.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{filename}/pin", (string filename, HttpContext http,
            AuditedOperations operations) => PinAsync(filename, false, http, operations))
            .WithName("UnpinBackup").WithSummary("Lets retention delete the backup again.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Ok<ListEnvelope>> ListAsync(IBackupService backups, Core.Offsite.OffsiteService offsite,
        IOptions<BackupOptions> options, CancellationToken cancellationToken)
    {
        var list = await backups.ListAsync(cancellationToken);
        var status = offsite.DestinationNames.Count > 0 ? offsite.GetStatus() : null;
        var rows = list.Select(b => BackupDto.From(b) with
        {
            Copies = status is null ? null : offsite.CopiesOf(b.Filename, status)
                .ToDictionary(c => c.Destination, c => c.State),
        }).ToList();
        return TypedResults.Ok(new ListEnvelope(rows, new ListMeta(list.Count, options.Value.MaxBackups, list.Sum(
            b => b.Size))));
    }

    private static Results<Accepted<DataEnvelope<JobDto>>,
        ProblemHttpResult> Create(CreateBackupBody? body, HttpContext http, BackupJobRunner jobs,
        IOptions<BackupOptions> options)
    {
        if (ScopeFromFlags.Parse(body?.OnlyDb, body?.OnlyFiles) is not { } scope)
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid request",
                "only_db and only_files cannot both be true.");
        if (BackupPriorities.Parse(body?.Priority, options.Value.ManualPriorityLevel) is not { } priority)
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid request",
                $"priority '{body!.Priority}' must be \"low\" (yields to the clinic's database) or \"normal\" (as "
                + $"fast as possible).");
        try
        {
            var job = jobs.StartCreate(scope, BackupTrigger.Manual, ActorFromHttp.From(http), priority);
            return TypedResults.Accepted($"/api/v1/backups/jobs/{job.Id}", new DataEnvelope<JobDto>(JobDto.From(job)));
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }

    private static async Task<Results<Accepted<DataEnvelope<JobDto>>,
        ProblemHttpResult>> RestoreAsync(RestoreBackupBody? body, HttpContext http, BackupJobRunner jobs,
        IOptions<Scheduling.ScheduleOptions> schedule)
    {
        if (string.IsNullOrEmpty(body?.Filename) == string.IsNullOrEmpty(body?.ToTime))
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid request",
                "Send either {\"filename\": \"backup-YYYY-MM-DD-HH-mm-ss.zip\"} naming the backup to restore, or "
                + "{\"to_time\": \"2026-12-06T14:31:00+01:00\"} (or \"YYYY-MM-DD HH:MM:SS\" in Backup__TimeZone) "
                + "for a point in time; exactly one of them.");
        if (ScopeFromFlags.Parse(body!.OnlyDb, body.OnlyFiles) is not { } scope)
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid request",
                "only_db and only_files cannot both be true.");
        try
        {
            var actor = ActorFromHttp.From(http);
            var job = body.ToTime is { Length: > 0 } toTime
                ? await jobs.StartPointInTimeRestoreAsync(Core.Pitr.PointInTimeParser.Parse(toTime,
                    schedule.Value.ResolveTimeZone(), "to_time"), scope, actor, http.RequestAborted)
                : jobs.StartRestore(body.Filename!, scope, actor, body.AllowForeign ?? false);
            return TypedResults.Accepted($"/api/v1/backups/jobs/{job.Id}", new DataEnvelope<JobDto>(JobDto.From(job)));
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }

    private static IResult Download(string filename, bool? encrypted, HttpContext http, AuditedOperations operations)
    {
        try
        {
            if (encrypted == true)
            {
                // Encrypted as it is sent: no temporary copy, so neither ranges nor validators (each download has a
                // fresh key).
                var (content, length) = operations.OpenEncryptedDownload(filename, ActorFromHttp.From(http));
                http.Response.ContentLength = length;
                return TypedResults.Stream(content, "application/octet-stream", filename + ".age");
            }
            var path = operations.OpenDownload(filename, ActorFromHttp.From(http));
            var file = new FileInfo(path);
            // Archives never change after they are written, so name + size + time is a strong validator.
            var etag = new EntityTagHeaderValue($"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"");
            if (ArchiveDownloadResult.Applies(http.Request))
                return new ArchiveDownloadResult(path, file.Name, file.Length, file.LastWriteTimeUtc, etag);
            return TypedResults.PhysicalFile(path, "application/zip", file.Name, file.LastWriteTimeUtc, etag,
                enableRangeProcessing: true);
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }

    private static async Task<Results<NoContent,
        ProblemHttpResult>> DeleteAsync(string filename, HttpContext http, AuditedOperations operations)
    {
        try
        {
            await operations.DeleteAsync(filename, ActorFromHttp.From(http), http.RequestAborted);
            return TypedResults.NoContent();
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }

    /// <summary>With several servers, a job another instance runs or ran is read from the cluster's job table.
    /// </summary>
    private static async Task<Results<Ok<DataEnvelope<JobDto>>, ProblemHttpResult>> GetJob(Guid id,
        BackupJobRunner jobs, CancellationToken cancellationToken) =>
        await jobs.FindAsync(id, cancellationToken) is { } job
            ? TypedResults.Ok(new DataEnvelope<JobDto>(JobDto.From(job)))
            : ApiProblems.Problem(StatusCodes.Status404NotFound, "No such job",
                $"There is no job {id}; jobs are kept for the last 100 operations (with several servers, for 30 days "
                + "in the cluster database).");

    private static async Task<Results<Created<DataEnvelope<BackupDto>>,
        ProblemHttpResult>> UploadAsync(HttpContext http, AuditedOperations operations, IOptions<ApiOptions> options)
    {
        var limit = options.Value.MaxUploadBytes;
        if (http.Request.ContentLength is { } length && length > limit)
            return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, "Upload too large",
                $"The upload has {length:N0} bytes; the limit is {limit:N0} (Backup__MaxUploadBytes).");
        // The import counts the bytes and refuses past the limit (413); the server's own cap would instead fail a
        // chunked upload with an I/O error mid-read (a 500), so it is lifted here.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = null;
        try
        {
            var imported = await operations.ImportAsync(http.Request.Body, limit, ActorFromHttp.From(http),
                http.RequestAborted);
            return TypedResults.Created($"/api/v1/backups/download/{imported.Filename}",
                new DataEnvelope<BackupDto>(BackupDto.From(imported)));
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }

    private static async Task<Ok<DataEnvelope<HealthDto>>> HealthAsync(Health.BackupHealthService health,
        Scheduling.ScheduleOverview schedules, CancellationToken cancellationToken)
    {
        var report = await health.EvaluateAsync(cancellationToken);
        return TypedResults.Ok(new DataEnvelope<HealthDto>(new HealthDto(
            report.Healthy,
            report.CheckedAt.UtcDateTime,
            report.Checks.Select(c => new HealthCheckDto(c.Name, c.Healthy, c.Detail)).ToList(),
            schedules.Current().Select(s => new ScheduleDto(s.Name, s.Expression, s.TimeZone, s.NextRun?.UtcDateTime,
                s.LastRun is { } last ? new ScheduledRunDto(last.At.UtcDateTime, last.Outcome.ToString()
                    .ToLowerInvariant(), last.Filename, last.Detail, last.CatchUp) : null)).ToList())));
    }

    private static async Task<Results<NoContent,
        ProblemHttpResult>> PinAsync(string filename, bool pinned, HttpContext http, AuditedOperations operations)
    {
        try
        {
            await operations.SetPinnedAsync(filename, pinned, ActorFromHttp.From(http), http.RequestAborted);
            return TypedResults.NoContent();
        }
        catch (BackupException e) { return ApiProblems.From(e); }
    }
}
