using BackupManager.Core.Jobs;

namespace BackupManager.Web.Scheduling;

/// <summary>A schedule as the page shows it: when it runs next and how its last run ended.</summary>
public sealed record ScheduleView(string Name, string Expression, string TimeZone, bool Enabled,
    DateTimeOffset? NextRun, ScheduledRun? LastRun);
