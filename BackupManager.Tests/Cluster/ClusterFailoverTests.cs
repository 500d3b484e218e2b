using System.Text.Json;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// The server running a scheduled backup dies (kill -9) in the middle of it: no broken archive is left under a backup's
/// name, the other instance reports the job interrupted (not running forever) and keeps the schedule.
/// </summary>
public sealed class ClusterFailoverTests
{
    [Fact]
    public async Task Killing_the_instance_running_a_scheduled_backup_leaves_no_broken_archive_and_the_other_goes_on()
    {
        await using var h = await ClusterProofTests.SlowClinicAsync();
        var token = await ClusterProofTests.AdminTokenAsync(h);
        void EveryMinute(Dictionary<string, string> settings)
        {
            ClusterProofTests.Slow(settings);
            settings["Backup__SchedulesEnabled"] = "true";
            settings["BACKUP_SCHEDULE"] = "* * * * *";
            settings["Backup__ScheduledPriority"] = "low";
            settings["Backup__Cluster__HeartbeatSeconds"] = "2";
            settings["Backup__Cluster__HandoverSeconds"] = "8";
        }
        await using var a = await ClusterAppProcess.StartAsync(h, "a", EveryMinute);
        await using var b = await ClusterAppProcess.StartAsync(h, "b", EveryMinute);
        var nodes = new[] { a, b };

        var (job, instance) = await RunningJobAsync(h, TimeSpan.FromSeconds(150));
        var victim = nodes.Single(n => n.Name == instance);
        var survivor = nodes.Single(n => n != victim);
        await Task.Delay(TimeSpan.FromSeconds(2)); // well inside the create: it reads at 2 MiB/s
        victim.Kill();
        var killedAt = DateTime.UtcNow;

        using var client = survivor.Client(token);
        JsonElement seen = default;
        while (DateTime.UtcNow < killedAt.AddSeconds(60))
        {
            using var document = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/backups/jobs/{job}"));
            seen = document.RootElement.GetProperty("data").Clone();
            if (seen.GetProperty("status").GetString() != "running") break;
            await Task.Delay(1000);
        }
        Assert.Equal("failed", seen.GetProperty("status").GetString());
        Assert.Equal("interrupted", seen.GetProperty("error_kind").GetString());
        Assert.Contains(instance, seen.GetProperty("error").GetString());

        var before = Directory.GetFiles(h.BackupDirectory, "backup-*.zip").Length;
        foreach (var archive in Directory.GetFiles(h.BackupDirectory, "backup-*.zip"))
            StockReaders.AssertReadable(archive);
        // The schedule goes on without the dead instance: the next minutes' backups are made by the survivor.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (Directory.GetFiles(h.BackupDirectory, "backup-*.zip").Length <= before && DateTime.UtcNow < deadline)
            await Task.Delay(2000);
        var after = Directory.GetFiles(h.BackupDirectory, "backup-*.zip");
        Assert.True(after.Length > before, $"No scheduled backup after the kill.\n{survivor.Output}");
        foreach (var archive in after) StockReaders.AssertReadable(archive);
    }

    /// <summary>The first unfinished job any instance records, and that instance's name.</summary>
    private static async Task<(string Job, string Instance)> RunningJobAsync(EngineHarness h, TimeSpan timeout)
    {
        var accounts = TestPostgres.With(h.Database.AdminConnectionString, h.Database.Name + "_accounts");
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = new NpgsqlConnection(accounts);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT id::text, instance FROM backupmanager_cluster.jobs WHERE finished IS NULL "
                + "AND to_regclass('backupmanager_cluster.jobs') IS NOT NULL ORDER BY started LIMIT 1", connection);
            try
            {
                await using var reader = await command.ExecuteReaderAsync();
                if (await reader.ReadAsync()) return (reader.GetString(0), reader.GetString(1));
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { /* not yet made */ }
            await Task.Delay(500);
        }
        throw new TimeoutException("No instance started a scheduled backup.");
    }
}
