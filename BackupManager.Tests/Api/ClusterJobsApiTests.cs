using System.Net;
using System.Net.Http.Json;
using BackupManager.Tests.Infrastructure;
using Npgsql;
using static BackupManager.Tests.Api.BackupsApi;

namespace BackupManager.Tests.Api;

/// <summary>
/// Several servers (Backup__Cluster__Enabled): two in-process app servers meeting in one accounts database. The job
/// resource on the second answers a job the first runs, with the same JSON; without the setting no cluster schema is
/// made.
/// </summary>
public sealed class ClusterJobsApiTests
{
    private const string Schema = "SELECT count(*) FROM pg_namespace WHERE nspname = 'backupmanager_cluster'";

    [Fact]
    public async Task The_job_resource_on_a_second_server_answers_a_job_the_first_started()
    {
        await using var a = await WebAppHost.StartAsync(settings: s => Cluster(s, "a"));
        await a.Harness.SeedAsync();
        var accounts = Accounts(a);
        await using var b = await WebAppHost.StartAsync(settings: s =>
        {
            Cluster(s, "b");
            s["ConnectionStrings:Accounts"] = accounts; // the meeting database of both
        });
        await a.CreateUserAsync("admin@clinic.test", administrator: true);
        var token = await a.CreateTokenAsync("admin@clinic.test");
        var (onA, onB) = (a.Client(token), b.Client(token));

        var started = await onA.PostAsJsonAsync("/api/v1/backups", new { });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await onB.GetAsync(location)).StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        var seenOnB = await WaitForJobAsync(onB, location);
        var doneOnA = await WaitForJobAsync(onA, location);
        Assert.Equal("succeeded", seenOnB.GetProperty("status").GetString());
        Assert.Equal(doneOnA.GetRawText(), seenOnB.GetRawText()); // the same JSON as A answers
        Assert.Equal(1L, await Scalar(accounts, Schema));
        Assert.Equal(2L, await Scalar(accounts, "SELECT count(DISTINCT name) FROM backupmanager_cluster.instances"));
        var unknown = await onB.GetAsync($"/api/v1/backups/jobs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Without_the_setting_no_cluster_schema_is_made()
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true); // the accounts database is in use
        Assert.Equal(0L, await Scalar(Accounts(host), Schema));
    }

    private static void Cluster(Dictionary<string, string?> settings, string name)
    {
        settings["Backup:Cluster:Enabled"] = "true";
        settings["Backup:Cluster:InstanceName"] = name;
    }

    private static string Accounts(WebAppHost host) =>
        new NpgsqlConnectionStringBuilder(host.Harness.Database.ConnectionString)
        {
            Database = host.Harness.Database.Name + "_accounts",
        }.ConnectionString;

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
