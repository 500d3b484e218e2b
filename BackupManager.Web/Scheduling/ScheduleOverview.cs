using BackupManager.Core.Jobs;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>Reads the schedules and their last outcomes for the Backups page and the health API.</summary>
public sealed class ScheduleOverview(BackupScheduleCatalog catalog, ScheduleHistory history,
    IOptions<ScheduleOptions> options, TimeProvider time)
{
    public IReadOnlyList<ScheduleView> Current()
    {
        var last = history.Last();
        var now = time.GetUtcNow();
        return catalog.Recorded.Select(s => new ScheduleView(s.Name, s.UnixExpression, s.TimeZone.Id,
            options.Value.Enabled, options.Value.Enabled ? s.NextRunAfter(now) : null,
            last.GetValueOrDefault(s.Name))).ToList();
    }
}
