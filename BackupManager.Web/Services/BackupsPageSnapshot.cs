using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Core.Health;
using BackupManager.Core.Offsite;
using BackupManager.Web.Scheduling;

namespace BackupManager.Web.Services;

/// <summary>Everything the backups page shows at once, read in one call so the page needs one service, not
/// six.</summary>
public sealed record BackupsPageSnapshot(
    IReadOnlyList<BackupInfo> Backups,
    BackupFolderStatus Status,
    IReadOnlyList<ScheduleView> Schedules,
    BackupHealthReport Health,
    IReadOnlyList<DestinationStatus> Destinations,
    DrillResult? LastDrill);
