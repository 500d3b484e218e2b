using BackupManager.Core.Cluster;
using Quartz;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Backup__Cluster__Enabled: Quartz keeps its schedule in the cluster's database (schema <c>quartz</c>) and the
/// instances share it, so each firing runs on one of them. Off, nothing here is registered and Quartz keeps its
/// in-memory store.
/// </summary>
public static class ClusteredScheduling
{
    /// <summary>The scheduler name every instance shares (qrtz_*.sched_name); the instance id is generated.</summary>
    public const string SchedulerName = "BackupManager";

    /// <summary>Reads Backup:Cluster as the host does; the meeting database is the accounts database.</summary>
    public static ClusterOptions Read(IConfiguration configuration)
    {
        var cluster = new ClusterOptions();
        configuration.GetSection(ClusterOptions.SectionName).Bind(cluster);
        cluster.ConnectionString = Data.AccountsDatabase.ConnectionString(configuration);
        return cluster;
    }

    public static void UseClusteredStore(this IQuartzBuilder quartz, ClusterOptions cluster)
    {
        quartz.ConfigureScheduler(scheduler =>
        {
            scheduler.InstanceName = SchedulerName;
            scheduler.GenerateInstanceId = true; // "AUTO": host name and time, unique per start
        });
        quartz.UsePersistentStore(store =>
        {
            store.UsePostgres(source => source.ConnectionString = cluster.ConnectionString);
            store.ConfigureStore(options =>
            {
                options.TablePrefix = QuartzSchemaInstaller.TablePrefix;
                // Job data is written as name/value strings (the schedule's name), readable and version tolerant.
                options.StoreJobDataAsStrings = true;
            });
            store.UseClustering(clustering =>
            {
                var heartbeat = TimeSpan.FromSeconds(Math.Max(1, cluster.HeartbeatSeconds));
                clustering.CheckinInterval = heartbeat;
                // A silent instance's firings are recovered after interval + threshold: the cluster's hand-over time.
                clustering.CheckinMisfireThreshold =
                    TimeSpan.FromSeconds(Math.Max(cluster.HandoverSeconds, 2 * cluster.HeartbeatSeconds)) - heartbeat;
            });
            store.UseSystemTextJsonSerializer();
        });
        quartz.Services.Configure<QuartzOptions>(options =>
        {
            // Each start stores the declared jobs and triggers again; a replaced trigger keeps its last fire time, so
            // an instance starting right after another fired a schedule does not fire it a second time.
            options.Scheduling.OverwriteExistingData = true;
            options.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true;
        });
    }

    /// <summary>Before Quartz's hosted service: create the tables, then drop what the configuration no longer
    /// declares.</summary>
    public static void AddClusteredSchedulingStartup(this IServiceCollection services, DeclaredSchedule declared)
    {
        services.AddSingleton(declared);
        services.AddHostedService<QuartzSchemaStartup>();
        services.AddHostedService<UndeclaredScheduleRemover>();
    }
}
