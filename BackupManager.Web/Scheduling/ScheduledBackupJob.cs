using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>The Quartz job both triggers fire; the trigger's data says which schedule.</summary>
[DisallowConcurrentExecution]
public sealed class ScheduledBackupJob(ScheduledBackupService scheduled) : IJob
{
    public const string ScheduleKey = "schedule";
    public static readonly JobKey Key = new("scheduled-backup");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await scheduled.RunAsync(context.MergedJobDataMap.GetString(ScheduleKey)!, catchUp: false, cancellationToken);
}
