using BackupManager.Core;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BackupManager.Web.Endpoints;

/// <summary>RFC 9457 problem details for every API error, from the engine's error kinds.</summary>
public static class ApiProblems
{
    public static int StatusFor(BackupErrorKind kind) => kind switch
    {
        BackupErrorKind.InvalidInput => StatusCodes.Status400BadRequest,
        BackupErrorKind.NotFound => StatusCodes.Status404NotFound,
        BackupErrorKind.Busy or BackupErrorKind.AlreadyExists => StatusCodes.Status409Conflict,
        BackupErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        BackupErrorKind.Damaged or BackupErrorKind.Refused => StatusCodes.Status422UnprocessableEntity,
        BackupErrorKind.Database => StatusCodes.Status503ServiceUnavailable,
        BackupErrorKind.Destination => StatusCodes.Status502BadGateway,
        BackupErrorKind.Interrupted => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static ProblemHttpResult From(BackupException e) => Problem(StatusFor(e.Kind), TitleFor(e.Kind), e.Message);

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    private static string TitleFor(BackupErrorKind kind) => kind switch
    {
        BackupErrorKind.InvalidInput => "Invalid request",
        BackupErrorKind.NotFound => "No such backup",
        BackupErrorKind.Busy => "Another backup operation is running",
        BackupErrorKind.AlreadyExists => "The backup already exists",
        BackupErrorKind.TooLarge => "Upload too large",
        BackupErrorKind.Damaged => "The archive failed verification",
        BackupErrorKind.Refused => "The archive was refused",
        BackupErrorKind.Database => "The database refused the operation",
        BackupErrorKind.Destination => "The off-site destination failed",
        BackupErrorKind.Interrupted => "The app server running the operation stopped",
        _ => "The operation failed",
    };
}
