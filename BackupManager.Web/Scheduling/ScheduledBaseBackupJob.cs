using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>The Quartz job of Backup__Pitr__BaseBackupSchedule (registered only while point-in-time recovery is
/// on).</summary>
[DisallowConcurrentExecution]
public sealed class ScheduledBaseBackupJob(ScheduledBaseBackupService baseBackup) : IJob
{
    public static readonly JobKey Key = new("pitr-base-backup");
    public const string TriggerName = "pitr-base-backup";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        => await baseBackup.RunAsync(cancellationToken);
}
