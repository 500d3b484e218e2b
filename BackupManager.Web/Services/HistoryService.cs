using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Services;

/// <summary>The history shown by /history and GET /api/v1/backups/history, in the clinic's time zone (a drill run
/// from the page is a job of <see cref="Core.Jobs.BackupJobRunner"/>).</summary>
public sealed class HistoryService(IBackupService backups, Core.Storage.IBackupStore store,
    IOptions<ScheduleOptions> schedule, TimeProvider time)
{
    public const int DefaultDays = 30;

    public async Task<BackupHistoryReport> ReportAsync(int days = DefaultDays,
        CancellationToken cancellationToken = default) =>
        BackupHistoryReport.Build(await backups.ListAsync(cancellationToken), new DrillHistory(store.Directory).All(),
            schedule.Value.ResolveTimeZone(), time.GetUtcNow(),
            Math.Clamp(days, 1, 3660));

    /// <summary>
    /// The newest backup the clinic made (manual, daily or weekly) with recorded sizes, preferably one holding both
    /// parts: a pre-restore safety backup or an upload describes another moment than the clinic's own backups.
    /// </summary>
    public async Task<BackupInfo?> NewestClinicBackupAsync(CancellationToken cancellationToken = default)
    {
        var made = (await backups.ListAsync(cancellationToken))
            .Where(b => b.Readable && b.Trigger is BackupTrigger.Manual or BackupTrigger.Daily or BackupTrigger.Weekly
                && (b.DatabaseBytes ?? 0) + (b.FilesBytes ?? 0) > 0)
            .OrderByDescending(b => b.CreatedAt).ToList();
        return made.FirstOrDefault(b => b.HasDatabase && b.HasFiles) ?? made.FirstOrDefault();
    }

    public DrillResult? LastDrill() => new DrillHistory(store.Directory).Last();
}
