using System.Net;
using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Notifications;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace BackupManager.Tests.Scheduling;

/// <summary>Scheduled runs inside the real app: catch-up, overlap with a running operation, notifications.</summary>
public sealed class ScheduledRunTests
{
    private static Task<WebAppHost> StartAsync(Action<Dictionary<string, string?>>? settings = null,
        TimeProvider? time = null) =>
        WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:SchedulesEnabled"] = "true";
            s["Backup:CatchUpDelay"] = "30.00:00:00"; // the tests call the catch-up themselves
            s["Backup:Notifications:Webhook:FirstBackoff"] = "00:00:00.050";
            settings?.Invoke(s);
        }, services: time is null ? null : s => s.AddSingleton(time));

    private static async Task<ScheduledRun> RunScheduledAsync(WebAppHost host, string schedule)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ScheduledBackupService>()
            .RunAsync(schedule, catchUp: false, CancellationToken.None);
    }

    [Fact]
    public async Task After_a_week_of_downtime_one_catch_up_runs_per_schedule_and_then_none()
    {
        // Sunday 02:30 in Paris
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 15, 1, 30, 0, TimeSpan.Zero));
        await using var host = await StartAsync(time: time);
        await host.Harness.SeedAsync();
        var engine = host.Factory.Services.GetRequiredService<IBackupService>();
        await engine.CreateAsync(new CreateBackupRequest(BackupScope.DatabaseOnly, BackupTrigger.Weekly,
            "scheduler:weekly"));
        time.SetUtcNow(new DateTimeOffset(2026, 11, 19, 23, 30, 0, TimeSpan.Zero)); // 00:30 on the 20th in Paris
        await engine.CreateAsync(new CreateBackupRequest(BackupScope.DatabaseOnly, BackupTrigger.Daily,
            "scheduler:daily"));

        time.SetUtcNow(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero)); // the app was down for a week
        var catchUp = host.Factory.Services.GetServices<IHostedService>().OfType<CatchUpService>().Single();
        var runs = await catchUp.RunMissedAsync(CancellationToken.None);

        Assert.Equal(["weekly", "daily"], runs.Select(r => r.Schedule));
        Assert.All(runs, r => Assert.Equal(ScheduledRunOutcome.Succeeded, r.Outcome));
        Assert.All(runs, r => Assert.True(r.CatchUp));
        var list = await engine.ListAsync();
        Assert.Equal(2, list.Count(b => b.Trigger == BackupTrigger.Daily));
        Assert.Equal(2, list.Count(b => b.Trigger == BackupTrigger.Weekly));

        Assert.Empty(await catchUp.RunMissedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_new_install_catches_nothing_up_but_a_slot_missed_after_it_existed_is_caught_up()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero)); // Friday morning
        await using var host = await StartAsync(time: time);
        await host.Harness.SeedAsync();
        var catchUp = host.Factory.Services.GetServices<IHostedService>().OfType<CatchUpService>().Single();
        var engine = host.Factory.Services.GetRequiredService<IBackupService>();

        // Last night's daily and last Sunday's weekly slots passed before this installation existed.
        Assert.Empty(await catchUp.RunMissedAsync(CancellationToken.None));
        Assert.Empty(await engine.ListAsync());
        Assert.True(File.Exists(Path.Combine(host.Harness.BackupDirectory, ScheduleHistory.SinceFileName)));

        time.SetUtcNow(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero)); // the app was down at midnight
        var runs = await catchUp.RunMissedAsync(CancellationToken.None);

        Assert.Equal(["daily"], runs.Select(r => r.Schedule));
        Assert.True(runs[0].CatchUp);
        Assert.Equal(BackupTrigger.Daily, Assert.Single(await engine.ListAsync()).Trigger);
    }

    [Fact]
    public async Task A_scheduled_run_that_meets_a_running_restore_waits_for_it()
    {
        await using var host = await StartAsync(s => s["Backup:ScheduleWindow"] = "00:00:30");
        await host.Harness.SeedAsync();
        var held = await Task.Run(() => host.Factory.Services.GetRequiredService<BackupOperationLock>()
            .Acquire("restore", "admin@clinic.test"));
        var started = DateTime.UtcNow;
        _ = Task.Delay(700).ContinueWith(_ => held.Dispose());

        var run = await RunScheduledAsync(host, "daily");

        Assert.Equal(ScheduledRunOutcome.Succeeded, run.Outcome);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(650),
            "the run did not wait for the restore");
        Assert.Equal(BackupTrigger.Daily, Assert.Single(await host.Harness.Engine.ListAsync()).Trigger);
    }

    [Fact]
    public async Task A_scheduled_run_that_cannot_start_in_its_window_is_skipped_recorded_notified_and_health_is_bad()
    {
        await using var webhook = new LocalWebhookReceiver();
        await using var host = await StartAsync(s =>
        {
            s["Backup:ScheduleWindow"] = "00:00:00.500";
            s["Backup:Notifications:Webhook:Url"] = webhook.Url;
        });
        await host.Harness.SeedAsync();
        using var held = await Task.Run(() => host.Factory.Services.GetRequiredService<BackupOperationLock>()
            .Acquire("restore", "admin@clinic.test"));

        var run = await RunScheduledAsync(host, "daily");

        Assert.Equal(ScheduledRunOutcome.Skipped, run.Outcome);
        Assert.Contains("Another backup operation is running (restore by admin@clinic.test", run.Detail);
        Assert.Empty(await host.Harness.Engine.ListAsync());
        Assert.Equal(ScheduledRunOutcome.Skipped, host.Factory.Services.GetRequiredService<ScheduleHistory>()
            .Last()["daily"].Outcome);

        var kinds = webhook.Bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("kind").GetString())
            .ToList();
        Assert.Contains(Notification.BackupFailed, kinds);
        Assert.Contains(Notification.HealthBad, kinds);

        var admin = host.Client(await CreateAdminTokenAsync(host));
        var health = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/backups/health"))
            .RootElement.GetProperty("data");
        Assert.False(health.GetProperty("healthy").GetBoolean());
        Assert.Contains(health.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name")
            .GetString() == "scheduled-runs" && !c.GetProperty("healthy").GetBoolean());
        var daily = health.GetProperty("schedules").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "daily");
        Assert.Equal("skipped", daily.GetProperty("last_run").GetProperty("outcome").GetString());
        Assert.True(daily.GetProperty("next_run").GetDateTime() > DateTime.UtcNow);
    }

    [Fact]
    public async Task Health_recovers_after_a_successful_run_and_says_so_once()
    {
        await using var webhook = new LocalWebhookReceiver();
        await using var host = await StartAsync(s => s["Backup:Notifications:Webhook:Url"] = webhook.Url);
        await host.Harness.SeedAsync();
        var anonymous = host.Client();
        // no backup yet
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/health")).StatusCode);
        await host.Factory.Services.GetRequiredService<Web.Health.BackupHealthService>().CheckAndNotifyAsync();

        await RunScheduledAsync(host, "daily");
        await RunScheduledAsync(host, "weekly");

        var probe = await anonymous.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        // status only, no details for anonymous callers
        Assert.Equal("Healthy", await probe.Content.ReadAsStringAsync());
        var kinds = webhook.Bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("kind").GetString())
            .ToList();
        Assert.Equal(1, kinds.Count(k => k == Notification.HealthBad));
        Assert.Equal(1, kinds.Count(k => k == Notification.HealthRecovered));
    }

    [Fact]
    public async Task A_failure_notification_is_really_delivered_by_email()
    {
        await using var smtp = new LocalSmtpServer();
        await using var host = await StartAsync(s =>
        {
            s["Backup:Notifications:Smtp:Host"] = "127.0.0.1";
            s["Backup:Notifications:Smtp:Port"] = smtp.Port.ToString();
            s["Backup:Notifications:Smtp:Security"] = "None";
            s["Backup:Notifications:Smtp:From"] = "backups@clinic.test";
            s["Backup:Notifications:Smtp:To:0"] = "ops@clinic.test";
            s["Backup:PgBinDirectory"] = "/nonexistent/bin"; // pg_dump cannot start: the scheduled backup fails
        });
        await host.Harness.SeedAsync();

        var run = await RunScheduledAsync(host, "daily");

        Assert.Equal(ScheduledRunOutcome.Failed, run.Outcome);
        var message = Assert.Single(smtp.Messages, m => m.Contains("The daily backup failed"));
        Assert.Contains("ops@clinic.test", message);
        Assert.Contains("postgresql-client", message);
    }

    [Fact]
    public async Task The_webhook_is_retried_with_backoff_until_it_is_accepted()
    {
        await using var webhook = new LocalWebhookReceiver(failures: 2);
        await using var host = await StartAsync(s =>
        {
            s["Backup:Notifications:Webhook:Url"] = webhook.Url;
            s["Backup:SchedulesEnabled"] = "false"; // no health monitor sending its own notifications
        });
        var notifier = host.Factory.Services.GetRequiredService<Notifier>();

        await notifier.NotifyAsync(new Notification(Notification.BackupFailed, "test", "the daily backup failed",
            DateTimeOffset.UtcNow));

        Assert.Equal(3, webhook.Attempts);
        var body = JsonDocument.Parse(Assert.Single(webhook.Bodies)).RootElement;
        Assert.Equal("backup-failed", body.GetProperty("kind").GetString());
        Assert.Equal("the daily backup failed", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_broken_notification_channel_never_breaks_the_backup()
    {
        await using var host = await StartAsync(s =>
        {
            s["Backup:Notifications:Smtp:Host"] = "127.0.0.1";
            s["Backup:Notifications:Smtp:Port"] = "1"; // nothing listens there
            s["Backup:Notifications:Smtp:Security"] = "None";
            s["Backup:Notifications:Smtp:To:0"] = "ops@clinic.test";
            s["Backup:Notifications:Webhook:Url"] = "http://127.0.0.1:1/hook";
            s["Backup:Notifications:Webhook:Retries"] = "0";
        });
        await host.Harness.SeedAsync();

        var run = await RunScheduledAsync(host, "daily");

        Assert.Equal(ScheduledRunOutcome.Succeeded, run.Outcome);
        Assert.Single(await host.Harness.Engine.ListAsync());
    }

    private static async Task<string> CreateAdminTokenAsync(WebAppHost host)
    {
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        return await host.CreateTokenAsync("admin@clinic.test");
    }
}
