using Quartz;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Clustered store only, before Quartz's hosted service starts the scheduler: a trigger or job the database still
/// holds but this configuration no longer declares (the drill turned off, point-in-time recovery off, a schedule made
/// invalid) is deleted, so it does not go on firing from the database. Every instance of a cluster must run the same
/// schedule settings: one started with an older configuration stores its triggers again.
/// </summary>
internal sealed class UndeclaredScheduleRemover(ISchedulerFactory factory, DeclaredSchedule declared,
    ILogger<UndeclaredScheduleRemover> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await factory.GetScheduler(cancellationToken);
        foreach (var key in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.AnyGroup(), cancellationToken))
        {
            if (declared.Triggers.Contains(key)) continue;
            await scheduler.UnscheduleJob(key, cancellationToken);
            logger.LogInformation("Removed the stored trigger {Trigger}: the configuration no longer declares it", key);
        }
        foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.AnyGroup(), cancellationToken))
        {
            if (declared.Jobs.Contains(key)) continue;
            await scheduler.DeleteJob(key, cancellationToken);
            logger.LogInformation("Removed the stored job {Job}: the configuration no longer declares it", key);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
