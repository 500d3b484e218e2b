using BackupManager.Core.Drills;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Health;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace BackupManager.Tests.Scheduling;

/// <summary>The drill schedule inside the real app: it fires in the clinic's time zone, can be turned off, and a failed
/// drill makes health bad.</summary>
public sealed class DrillScheduleTests
{
    [Fact]
    public async Task The_drill_fires_on_saturday_at_3_in_the_clinics_time_zone_by_default()
    {
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:SchedulesEnabled"] = "true";
            s["Backup:CatchUpDelay"] = "30.00:00:00";
            s["Backup:TimeZone"] = "America/New_York";
        });
        var scheduler = await host.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var trigger = await scheduler.GetTrigger(new TriggerKey("drill"));
        Assert.NotNull(trigger);
        var next = trigger.NextFireTimeUtc!.Value;
        var local = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
        Assert.Equal((DayOfWeek.Saturday, 3, 0), (local.DayOfWeek, local.Hour, local.Minute));
        Assert.NotEqual(3, next.UtcDateTime.Hour); // in New York time, not UTC
    }

    [Fact]
    public async Task An_empty_drill_schedule_turns_scheduled_drills_off()
    {
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:SchedulesEnabled"] = "true";
            s["Backup:CatchUpDelay"] = "30.00:00:00";
            s["Backup:DrillSchedule"] = "";
        });
        var scheduler = await host.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Null(await scheduler.GetTrigger(new TriggerKey("drill")));
    }

    [Fact]
    public async Task A_failing_scheduled_drill_makes_health_bad_with_the_reason_and_a_passing_one_makes_it_good_again()
    {
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:SchedulesEnabled"] = "true";
            s["Backup:CatchUpDelay"] = "30.00:00:00";
            s["Backup:DrillChecks:0"] = "SELECT count(*) > 100000 FROM patients";
        });
        await host.Harness.SeedAsync();
        await host.Harness.CreateBackupAsync();
        var health = host.Factory.Services.GetRequiredService<BackupHealthService>();

        await using (var scope = host.Factory.Services.CreateAsyncScope())
        {
            var failed = await scope.ServiceProvider.GetRequiredService<ScheduledDrillService>()
                .RunAsync(CancellationToken.None);
            Assert.False(failed.Passed);
        }
        // It ran as a job of the runner, so the pages showed it while it ran.
        var job = Assert.Single(host.Factory.Services.GetRequiredService<Core.Jobs.BackupJobRunner>().Recent);
        Assert.Equal((Core.Jobs.BackupJobKind.Drill, "scheduler:drill", Core.Jobs.BackupJobStatus.Failed),
            (job.Kind, job.RequestedBy, job.Status));
        var bad = await health.EvaluateAsync();
        var drill = bad.Checks.Single(c => c.Name == "restore-drill");
        Assert.False(drill.Healthy);
        Assert.Contains("Backup__DrillChecks__0 (SELECT count(*) > 100000 FROM patients) returned False", drill.Detail);

        // A later drill that passed (as recorded by the engine) clears it.
        new DrillHistory(host.Harness.BackupDirectory)
            .Add(new DrillResult { Filename = "x", StartedAt = DateTimeOffset.UtcNow, RequestedBy = "test",
            RestoreDuration = TimeSpan.FromSeconds(252) });
        var good = (await health.EvaluateAsync()).Checks.Single(c => c.Name == "restore-drill");
        Assert.True(good.Healthy);
        Assert.Contains("a full restore took 4 min 12 s", good.Detail);
    }
}
