using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Api;

/// <summary>
/// The set-up and calls the /api/v1/backups tests share: a seeded app with an administrator's token, a job's JSON.
/// </summary>
internal static class BackupsApi
{
    internal static async Task<(WebAppHost Host, HttpClient Admin)> StartAsync()
    {
        var host = await WebAppHost.StartAsync();
        await host.Harness.SeedAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        return (host, host.Client(await host.CreateTokenAsync("admin@clinic.test")));
    }

    internal static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Starts a create job and waits for it to finish; returns the job's final JSON.</summary>
    internal static async Task<JsonElement> CreateAndWaitAsync(HttpClient client, object? body = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/backups", body ?? new { });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await WaitForJobAsync(client, response.Headers.Location!.ToString());
    }

    internal static async Task<JsonElement> WaitForJobAsync(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var response = await client.GetAsync(location);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                // The user database is being swapped by a restore for a moment: retry as a script would.
                Assert.NotNull(response.Headers.RetryAfter);
                await Task.Delay(100);
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = (await JsonAsync(response)).GetProperty("data");
            var status = job.GetProperty("status").GetString();
            if (status is "succeeded" or "failed") return job;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish");
            await Task.Delay(100);
        }
    }
}
