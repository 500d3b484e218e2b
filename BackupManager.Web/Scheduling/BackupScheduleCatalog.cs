using BackupManager.Core;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>The daily and weekly schedules built from the validated <see cref="ScheduleOptions"/>.</summary>
public sealed class BackupScheduleCatalog(IOptions<ScheduleOptions> options)
{
    public const string Daily = "daily";
    public const string Weekly = "weekly";

    public IReadOnlyList<BackupSchedule> All { get; } =
    [
        new(Daily, BackupTrigger.Daily, options.Value.Daily, options.Value.ResolveTimeZone()),
        new(Weekly, BackupTrigger.Weekly, options.Value.Weekly, options.Value.ResolveTimeZone()),
    ];

    public BackupSchedule Get(string name) => All.Single(s => s.Name == name);
}
