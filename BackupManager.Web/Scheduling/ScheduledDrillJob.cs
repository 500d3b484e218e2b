using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>The Quartz job of the drill schedule.</summary>
[DisallowConcurrentExecution]
public sealed class ScheduledDrillJob(ScheduledDrillService drill) : IJob
{
    public static readonly JobKey Key = new("restore-drill");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        => await drill.RunAsync(cancellationToken);
}
