using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quartz;

namespace BackupManager.Tests.Cluster;

/// <summary>Where Quartz keeps the schedule: in memory by default (no cluster tables anywhere), in the accounts
/// database's <c>quartz</c> schema with Backup__Cluster__Enabled, rewritten from the configuration at each start.
/// </summary>
public sealed class ClusteredScheduleStoreTests
{
    private static void Schedules(Dictionary<string, string?> s)
    {
        s["Backup:SchedulesEnabled"] = "true";
        s["Backup:CatchUpDelay"] = "30.00:00:00";
    }

    [Fact]
    public async Task Without_the_cluster_setting_the_schedule_stays_in_memory_and_no_quartz_schema_is_created()
    {
        await using var host = await WebAppHost.StartAsync(settings: Schedules);
        var scheduler = await host.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        Assert.NotNull(await scheduler.GetTrigger(new TriggerKey("daily")));
        Assert.False((await scheduler.GetMetadata()).JobStoreClustered);
        Assert.Null(await AccountsScalarAsync<string>(host,
            "SELECT nspname FROM pg_namespace WHERE nspname = 'quartz'"));
        Assert.Equal(0L, await AccountsScalarAsync<long>(host,
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'qrtz%'"));
    }

    [Fact]
    public async Task With_the_cluster_setting_the_triggers_live_in_the_database_and_a_trigger_turned_off_is_removed()
    {
        var first = await WebAppHost.StartAsync(settings: s =>
        {
            Schedules(s);
            s["Backup:Cluster:Enabled"] = "true";
        });
        WebAppHost? second = null;
        try
        {
            var scheduler = await first.Factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            var metadata = await scheduler.GetMetadata();
            Assert.True(metadata.JobStoreClustered);
            Assert.Equal("BackupManager", metadata.SchedulerName);
            Assert.Equal(["daily", "drill", "weekly"], await TriggersAsync(first));
            // Job data as name/value strings (StoreJobDataAsStrings), not a serialized object.
            Assert.Equal("{\"schedule\":\"daily\"}", Assert.Single(await AccountsRowsAsync(first,
                "SELECT convert_from(job_data, 'UTF8') FROM quartz.qrtz_triggers WHERE trigger_name = 'daily'")));
            // StoreJobDataAsStrings: job data holds strings only. The probe job is not declared: the next start
            // removes it.
            IJobDetail Probe(object value) => JobBuilder.Create<Web.Scheduling.ScheduledBackupJob>()
                .WithIdentity("probe").UsingJobData("n", value).StoreDurably().Build();
            var refused = await Assert.ThrowsAsync<JobPersistenceException>(
                () => scheduler.AddJob(Probe(42), AddJobOptions.Replacing).AsTask());
            Assert.Contains("must be strings", refused.Message);
            await scheduler.AddJob(Probe("42"), AddJobOptions.Replacing);
            await first.Factory.DisposeAsync();

            // The drill turned off: its trigger and job must not stay in the database and fire from there.
            second = await WebAppHost.StartAsync(harness: first.Harness, settings: s =>
            {
                Schedules(s);
                s["Backup:Cluster:Enabled"] = "true";
                s["Backup:DrillSchedule"] = "";
            });
            Assert.Equal(["daily", "weekly"], await TriggersAsync(second));
            Assert.Equal(0L, await AccountsScalarAsync<long>(second,
                "SELECT count(*) FROM quartz.qrtz_job_details WHERE job_name IN ('restore-drill', 'probe')"));
        }
        finally
        {
            if (second is not null) await second.DisposeAsync();
            else await first.DisposeAsync();
        }
    }

    private static async Task<List<string>> TriggersAsync(WebAppHost host) =>
        await AccountsRowsAsync(host, "SELECT trigger_name FROM quartz.qrtz_triggers ORDER BY 1");

    private static string Accounts(WebAppHost host) =>
        TestPostgres.With(host.Harness.Database.AdminConnectionString, host.Harness.Database.Name + "_accounts");

    private static async Task<T?> AccountsScalarAsync<T>(WebAppHost host, string sql)
    {
        await using var connection = new NpgsqlConnection(Accounts(host));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    private static async Task<List<string>> AccountsRowsAsync(WebAppHost host, string sql)
    {
        await using var connection = new NpgsqlConnection(Accounts(host));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
        return rows;
    }
}
