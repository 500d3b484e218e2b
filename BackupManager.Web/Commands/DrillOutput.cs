namespace BackupManager.Web.Commands;

/// <summary>How drills are shown by the console and the API.</summary>
public static class DrillOutput
{
    public static string Duration(TimeSpan time)
        => BackupManager.Core.Health.BackupHealthEvaluator.DescribeDuration(time);

    public static object Json(BackupManager.Core.Drills.DrillResult r) => new
    {
        filename = r.Filename,
        passed = r.Passed,
        started_at = r.StartedAt.UtcDateTime,
        restore_seconds = Math.Round(r.RestoreDuration.TotalSeconds, 1),
        total_seconds = Math.Round(r.TotalDuration.TotalSeconds, 1),
        archive_bytes = r.ArchiveBytes,
        tables_checked = r.TablesChecked,
        rows_checked = r.RowsChecked,
        files_checked = r.FilesChecked,
        operator_checks = r.OperatorChecks,
        failures = r.Failures,
        warnings = r.Warnings,
        point_in_time = r.PointInTime,
        requested_by = r.RequestedBy,
    };
}
