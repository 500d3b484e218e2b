using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Health;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace BackupManager.Tests.Pitr;

/// <summary>Backup__Pitr__BaseBackupSchedule inside the real app: its Quartz job exists only while point-in-time
/// recovery is on, fires in the clinic's time zone, really takes a verified base backup through the app's own
/// receiver and server, waits for the operation lock, and shows its outcome where the other schedules do.</summary>
public sealed class BaseBackupScheduleTests
{
    private static async Task<WebAppHost> StartAsync(bool pitr, string? schedule = null, string window = "02:00:00")
    {
        var harness = await EngineHarness.CreateAsync();
        return await WebAppHost.StartAsync(harness: harness, settings: s =>
        {
            s["Backup:SchedulesEnabled"] = "true";
            s["Backup:CatchUpDelay"] = "30.00:00:00";
            s["Backup:ScheduleWindow"] = window;
            s["Backup:Pitr:Enabled"] = pitr ? "true" : "false";
            // The owner role has no REPLICATION: the dedicated connection the runbook describes (here the superuser).
            s["Backup:Pitr:Connection"] = TestPostgres.With(harness.Database.AdminConnectionString,
                harness.Database.Name);
            if (schedule is not null) s["Backup:Pitr:BaseBackupSchedule"] = schedule;
        });
    }

    [Fact]
    public async Task The_scheduled_job_takes_a_verified_base_backup_and_shows_its_outcome_with_the_schedules()
    {
        var host = await StartAsync(pitr: true, schedule: "30 4 * * 1");
        var slot = new PitrLayout(host.Harness.BackupDirectory).SlotName;
        try
        {
            var scheduler = await host.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            var trigger = await scheduler.GetTrigger(new TriggerKey(ScheduledBaseBackupJob.TriggerName));
            Assert.NotNull(trigger);
            var local = TimeZoneInfo.ConvertTime(trigger.NextFireTimeUtc!.Value,
                TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
            Assert.Equal((DayOfWeek.Monday, 4, 30), (local.DayOfWeek, local.Hour, local.Minute));
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the app's receiver to stream");
            var history = host.Factory.Services.GetRequiredService<ScheduleHistory>();

            await scheduler.TriggerJob(ScheduledBaseBackupJob.Key);
            await PitrScenario.WaitForAsync(() => Task.FromResult(history.Last().ContainsKey("base")),
                "the scheduled base backup to finish", seconds: 120);

            var run = history.Last()["base"];
            Assert.True(run.Outcome == ScheduledRunOutcome.Succeeded, run.Detail);
            var taken = Assert.Single(BaseBackupRecord.List(new PitrLayout(host.Harness.BackupDirectory).Base));
            Assert.Equal(taken.Name, run.Filename);
            Assert.True(File.Exists(Path.Combine(taken.Folder, "backup_manifest")));
            var status = await host.Factory.Services.GetRequiredService<PitrStatusReader>()
                .ReadAsync(CancellationToken.None);
            Assert.Equal((taken.Name, true), (status.LastBaseBackup, status.WindowFrom is not null));
            var view = Assert.Single(host.Factory.Services.GetRequiredService<ScheduleOverview>().Current(),
                v => v.Name == "base");
            Assert.Equal(("30 4 * * 1", ScheduledRunOutcome.Succeeded), (view.Expression, view.LastRun?.Outcome));
            var health = await host.Factory.Services.GetRequiredService<BackupHealthService>().EvaluateAsync();
            Assert.True(health.Checks.Single(c => c.Name == "scheduled-runs").Healthy);
        }
        finally
        {
            await host.DisposeAsync();
            await PitrScenario.DropSlotAsync(slot);
        }
    }

    [Fact]
    public async Task Catch_up_takes_the_first_base_backup_when_there_is_none_and_then_waits_for_the_next_slot()
    {
        var host = await StartAsync(pitr: true);
        var slot = new PitrLayout(host.Harness.BackupDirectory).SlotName;
        try
        {
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the app's receiver to stream");
            var catchUp = host.Factory.Services.GetServices<IHostedService>().OfType<CatchUpService>().Single();

            var runs = await catchUp.RunMissedAsync(CancellationToken.None);

            var run = Assert.Single(runs, r => r.Schedule == "base");
            Assert.True(run.Outcome == ScheduledRunOutcome.Succeeded, run.Detail);
            var taken = Assert.Single(BaseBackupRecord.List(new PitrLayout(host.Harness.BackupDirectory).Base));
            Assert.Equal(taken.Name, run.Filename);
            Assert.DoesNotContain(await catchUp.RunMissedAsync(CancellationToken.None), r => r.Schedule == "base");
        }
        finally
        {
            await host.DisposeAsync();
            await PitrScenario.DropSlotAsync(slot);
        }
    }

    [Fact]
    public async Task A_scheduled_base_backup_waits_for_the_operation_lock_and_is_recorded_as_skipped_after_the_window()
    {
        var host = await StartAsync(pitr: true, window: "00:00:01");
        var slot = new PitrLayout(host.Harness.BackupDirectory).SlotName;
        try
        {
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the app's receiver to stream");
            ScheduledRun run;
            using (host.Factory.Services.GetRequiredService<BackupOperationLock>().Acquire("restore", "web:alice"))
            {
                await using var scope = host.Factory.Services.CreateAsyncScope();
                run = await scope.ServiceProvider.GetRequiredService<ScheduledBaseBackupService>()
                    .RunAsync(CancellationToken.None);
            }
            Assert.Equal(ScheduledRunOutcome.Skipped, run.Outcome);
            Assert.Contains("restore by web:alice", run.Detail);
            Assert.Empty(BaseBackupRecord.List(new PitrLayout(host.Harness.BackupDirectory).Base));
            var health = await host.Factory.Services.GetRequiredService<BackupHealthService>().EvaluateAsync();
            Assert.Contains("The last base backup at", health.Checks.Single(c => c.Name == "scheduled-runs").Detail);
        }
        finally
        {
            await host.DisposeAsync();
            await PitrScenario.DropSlotAsync(slot);
        }
    }

    [Fact]
    public async Task Without_point_in_time_recovery_there_is_no_base_backup_job_and_no_such_schedule_shown()
    {
        await using var host = await StartAsync(pitr: false);
        var scheduler = await host.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Null(await scheduler.GetJobDetail(ScheduledBaseBackupJob.Key));
        Assert.Null(await scheduler.GetTrigger(new TriggerKey(ScheduledBaseBackupJob.TriggerName)));
        Assert.DoesNotContain(host.Factory.Services.GetRequiredService<ScheduleOverview>().Current(),
            v => v.Name == "base");
    }

    [Theory]
    [InlineData("0 2 * * 0", null)]
    [InlineData("every sunday", "Backup__Pitr__BaseBackupSchedule='every sunday' is not a valid 5-field cron")]
    [InlineData("0 2 * * 9", "Backup__Pitr__BaseBackupSchedule='0 2 * * 9' is not a valid 5-field cron")]
    public void The_schedule_is_validated_like_the_other_schedules(string value, string? expected)
    {
        var result = new ScheduleOptionsValidator().Validate(null, new ScheduleOptions { BaseBackup = value });
        if (expected is null) Assert.True(result.Succeeded);
        else Assert.Contains(expected, result.FailureMessage);
    }
}
