using BackupManager.Core;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Scheduling;

/// <summary>The daily and weekly schedules built from the validated <see cref="ScheduleOptions"/>, and the base
/// backup schedule of point-in-time recovery when it is on.</summary>
public sealed class BackupScheduleCatalog(IOptions<ScheduleOptions> options, IOptions<BackupOptions> backupOptions)
{
    public const string Daily = "daily";
    public const string Weekly = "weekly";
    /// <summary>The base backup schedule's name: "The last base backup … failed" reads right in health.</summary>
    public const string Base = "base";

    public IReadOnlyList<BackupSchedule> All { get; } =
    [
        new(Daily, BackupTrigger.Daily, options.Value.Daily, options.Value.ResolveTimeZone()),
        new(Weekly, BackupTrigger.Weekly, options.Value.Weekly, options.Value.ResolveTimeZone()),
    ];

    /// <summary>Null while Backup__Pitr__Enabled is false. Not in <see cref="All"/>: it makes no archive, so catch-up
    /// and the backup job never see it.</summary>
    public BackupSchedule? BaseBackup { get; } = backupOptions.Value.Pitr.Enabled
        ? new(Base, BackupTrigger.Unknown, options.Value.BaseBackup, options.Value.ResolveTimeZone())
        : null;

    /// <summary>Every schedule whose runs are recorded in the history (health and the page show these).</summary>
    public IEnumerable<BackupSchedule> Recorded => BaseBackup is null ? All : All.Append(BaseBackup);

    public BackupSchedule Get(string name) => All.Single(s => s.Name == name);
}
