using BackupManager.Core;
using BackupManager.Core.Offsite;
using BackupManager.Web.Health;
using BackupManager.Web.Scheduling;

namespace BackupManager.Web.Services;

/// <summary>Reads the backups page's snapshot from the engine, the schedules, health, destinations and
/// drills.</summary>
public sealed class BackupsPageData(IBackupService backups, ScheduleOverview schedules, BackupHealthService health,
    OffsiteService offsite, HistoryService history)
{
    public async Task<BackupsPageSnapshot> LoadAsync() => new(
        await backups.ListAsync(),
        await backups.GetStatusAsync(),
        schedules.Current(),
        await health.EvaluateAsync(),
        offsite.DestinationNames.Count > 0 ? offsite.GetStatus() : [],
        history.LastDrill());
}
