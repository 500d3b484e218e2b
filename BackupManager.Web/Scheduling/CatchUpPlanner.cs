using BackupManager.Core;

namespace BackupManager.Web.Scheduling;

/// <summary>
/// Decides whether a schedule missed its last slot while the app was down. A slot is covered when a backup of the
/// schedule's kind exists that was made at or after the slot, so the decision survives restarts and restores, and a
/// week of downtime gives one catch-up run, not seven. A slot before <paramref name="keptSince"/> (when this backup
/// folder's schedules began, see <see cref="ScheduleHistory.KeptSince"/>) was never missed: a new install catches
/// nothing up.
/// </summary>
public static class CatchUpPlanner
{
    public static DateTimeOffset? MissedSlot(BackupSchedule schedule, IEnumerable<BackupInfo> backups,
        DateTimeOffset now,
        DateTimeOffset keptSince)
    {
        if (schedule.PreviousRun(now) is not { } slot || slot < keptSince) return null;
        var newest = backups.Where(b => b.Trigger == schedule.Trigger).Select(b => (DateTimeOffset?)b.CreatedAt).Max();
        return newest is { } made && made >= slot ? null : slot;
    }
}
