using System.Diagnostics;
using System.Text;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Two app servers (two processes of the real app) on one database and one backup folder, with the daily schedule
/// firing every minute: with Backup__Cluster__Enabled each firing makes one backup, not one per server.
/// </summary>
public sealed class TwoAppServersScheduleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_clustered_app_servers_make_one_backup_per_firing_of_the_schedule()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);
        env["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        env["Backup__Cluster__Enabled"] = "true";
        env["BACKUP_SCHEDULE"] = "* * * * *";
        env["Backup__TimeZone"] = "UTC";
        env["Backup__DrillSchedule"] = "";
        env["Backup__CatchUpDelay"] = "30.00:00:00"; // only the schedule's own firings make backups here
        env["MAX_BACKUPS"] = "50";
        var logs = new StringBuilder();
        var apps = new List<Process>();
        try
        {
            // One after the other: two servers starting at the same moment race on the Identity roles (reported
            // separately); the Quartz tables' installer is tested starting together in QuartzSchemaInstallerTests.
            for (var i = 0; i < 2; i++)
            {
                apps.Add(StartLogged(env, $"app{i + 1}", logs));
                var expected = i + 1;
                await PitrScenario.WaitForAsync(async () => await CheckedInAsync(h) == expected
                    || apps.Any(a => a.HasExited), $"server {expected} to join the cluster", seconds: 120);
            }
            Assert.False(apps.Any(a => a.HasExited), "a server stopped:\n" + logs);
            var joined = DateTimeOffset.UtcNow;
            var first = NextMinute(joined);
            var firings = new[] { first, first.AddMinutes(1) };
            // Both firings' backups (not one that a firing made while the servers joined), however late a loaded
            // machine makes them, then time for a second one that a duplicate firing would make after waiting for
            // the first (a few seconds for this small clinic).
            var waitFor = (int)(firings[^1] - DateTimeOffset.UtcNow).TotalSeconds + 120;
            await PitrScenario.WaitForAsync(async () => apps.Any(a => a.HasExited) || (await h.Engine.ListAsync())
                .Count(b => b.Trigger == BackupTrigger.Daily && b.CreatedAt >= firings[0]) >= firings.Length,
                "both firings' backups", waitFor);
            await Task.Delay(TimeSpan.FromSeconds(25));

            Assert.False(apps.Any(a => a.HasExited), "a server stopped:\n" + logs);
            var scheduled = (await h.Engine.ListAsync()).Where(b => b.Trigger == BackupTrigger.Daily)
                .OrderBy(b => b.CreatedAt).ToList();
            output.WriteLine($"joined {joined:HH:mm:ss}; scheduled backups: "
                + string.Join(", ", scheduled.Select(b => $"{b.Filename} at {b.CreatedAt:HH:mm:ss}")));
            foreach (var firing in firings)
            {
                var made = scheduled.Count(b => b.CreatedAt >= firing && b.CreatedAt < firing.AddMinutes(1));
                Assert.True(made == 1, $"{made} backups for the firing at {firing:HH:mm:ss}\n{logs}");
            }
            Assert.Equal(2L, await CheckedInAsync(h)); // both servers were still in the cluster throughout
        }
        finally
        {
            foreach (var app in apps)
            {
                if (!app.HasExited) app.Kill(entireProcessTree: true);
                await app.WaitForExitAsync();
                app.Dispose();
            }
        }
    }

    private static DateTimeOffset NextMinute(DateTimeOffset t) =>
        new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero).AddMinutes(1);

    /// <summary>Instances with a Quartz check-in row; 0 while the tables do not exist yet.</summary>
    private static async Task<long> CheckedInAsync(EngineHarness h)
    {
        await using var connection = new NpgsqlConnection(
            TestPostgres.With(h.Database.AdminConnectionString, h.Database.Name + "_accounts"));
        try
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM quartz.qrtz_scheduler_state", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidCatalogName
            or PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>Starts the app and keeps reading its output (a full pipe would stall it), prefixed by
    /// <paramref name="name"/>.</summary>
    private static Process StartLogged(Dictionary<string, string> env, string name, StringBuilder logs)
    {
        var app = AppProcess.Start(env);
        void Append(object? _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (logs) logs.Append(name).Append(": ").AppendLine(e.Data);
        }
        app.OutputDataReceived += Append;
        app.ErrorDataReceived += Append;
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        return app;
    }
}
