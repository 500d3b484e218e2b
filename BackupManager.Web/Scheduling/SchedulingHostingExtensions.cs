using BackupManager.Core.Health;
using BackupManager.Web.Cluster;
using BackupManager.Web.Health;
using BackupManager.Web.Notifications;
using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>Quartz triggers for the daily and weekly backups, the drill and PITR base backups; catch-up, health
/// monitoring and notifications.</summary>
public static class SchedulingHostingExtensions
{
    public static IHostApplicationBuilder AddSchedulesAndHealth(this IHostApplicationBuilder builder, bool runSchedules)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddSingleton<BackupScheduleCatalog>();
        services.AddScoped<ScheduledBackupService>();
        services.AddScoped<ScheduledDrillService>();
        services.AddScoped<ScheduledBaseBackupService>();
        services.AddSingleton<BackupHealthService>();
        services.AddOptions<BackupHealthOptions>().Configure(o =>
        {
            if (double.TryParse(configuration["Backup:MaxAgeHours"], System.Globalization.CultureInfo.InvariantCulture,
                out var hours) && hours > 0) o.MaxAgeHours = hours;
            if (long.TryParse(configuration["Backup:MaxTotalBytes"], out var cap) && cap > 0) o.MaxTotalBytes = cap;
            if (double.TryParse(configuration["Backup:MaxDrillAgeDays"],
                System.Globalization.CultureInfo.InvariantCulture, out var days) && days > 0) o.MaxDrillAgeDays = days;
        });
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.SectionName));
        services.AddHttpClient(nameof(WebhookChannel), c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<INotificationChannel, SmtpChannel>();
        services.AddSingleton<INotificationChannel, WebhookChannel>();
        services.AddSingleton<Notifier>();
        services.AddHealthChecks().AddCheck<BackupsHealthCheck>("backups", tags: ["backups"]);
        if (!runSchedules) return builder;
        services.AddHostedService<OrphanedRestoreWatcher>();
        services.AddHostedService<WalReceiverService>();

        var schedule = new ScheduleOptions();
        ScheduleOptions.Bind(configuration, schedule);
        var cluster = ClusteredScheduling.Read(configuration);
        var declared = new DeclaredSchedule();
        services.AddQuartz(quartz =>
        {
            if (cluster.Enabled) quartz.UseClusteredStore(cluster);
            quartz.AddJob<ScheduledBackupJob>(job => job.WithIdentity(declared.Job(ScheduledBackupJob.Key))
                .StoreDurably());
            if (schedule.DrillEnabled && UnixCron.Problem(schedule.Drill) is null && !new ScheduleOptionsValidator()
                .Validate(null, schedule).Failed)
            {
                quartz.AddJob<ScheduledDrillJob>(job => job.WithIdentity(declared.Job(ScheduledDrillJob.Key))
                    .StoreDurably());
                quartz.AddTrigger(trigger => trigger.ForJob(ScheduledDrillJob.Key)
                    .WithIdentity(declared.Trigger(new TriggerKey("drill")))
                    .WithCronSchedule(UnixCron.ToQuartz(schedule.Drill),
                        cron => cron.InTimeZone(schedule.ResolveTimeZone())
                        .WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
            }
            if (bool.TryParse(configuration["Backup:Pitr:Enabled"], out var pitr) && pitr
                && !new ScheduleOptionsValidator().Validate(null, schedule).Failed)
            {
                quartz.AddJob<ScheduledBaseBackupJob>(job => job
                    .WithIdentity(declared.Job(ScheduledBaseBackupJob.Key)).StoreDurably());
                quartz.AddTrigger(trigger => trigger.ForJob(ScheduledBaseBackupJob.Key)
                    .WithIdentity(declared.Trigger(new TriggerKey(ScheduledBaseBackupJob.TriggerName)))
                    .WithCronSchedule(UnixCron.ToQuartz(schedule.BaseBackup),
                        cron => cron.InTimeZone(schedule.ResolveTimeZone())
                        .WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
            }
            foreach (var (name, expression) in new[] { (BackupScheduleCatalog.Daily, schedule.Daily),
                (BackupScheduleCatalog.Weekly, schedule.Weekly) })
            {
                // An invalid expression or zone is reported by ScheduleOptionsValidator at start; do not throw here.
                if (UnixCron.Problem(expression) is not null || new ScheduleOptionsValidator().Validate(null, schedule)
                    .Failed) continue;
                quartz.AddTrigger(trigger => trigger
                    .ForJob(ScheduledBackupJob.Key)
                    .WithIdentity(declared.Trigger(new TriggerKey(name)))
                    .UsingJobData(ScheduledBackupJob.ScheduleKey, name)
                    // Missed fires are handled by CatchUpService from the backups that exist, so Quartz must not replay
                    // them.
                    .WithCronSchedule(UnixCron.ToQuartz(expression), cron => cron.InTimeZone(schedule.ResolveTimeZone())
                        .WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
            }
        });
        if (cluster.Enabled) services.AddClusteredSchedulingStartup(declared);
        services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
        services.AddHostedService<CatchUpService>();
        services.AddHostedService<HealthMonitor>();
        services.AddHostedService<OffsiteCopyWorker>();
        services.AddHostedService<PitrOffsiteWorker>();
        return builder;
    }
}
