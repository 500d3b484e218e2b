using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BackupManager.Tests.EndToEnd;
using BackupManager.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Two instances (real processes, each with its own port and home folder) against one PostgreSQL and one backup
/// folder, as two servers behind a load balancer: one operation at a time across both, and a job started on one is
/// seen on the other (through the API and on the page, in Chromium).
/// </summary>
public sealed class ClusterProofTests
{
    private const string Admin = "dr.martin@clinic.test";
    private const string Password = "a-long-enough-passphrase";

    [Fact]
    public async Task While_one_instance_creates_the_other_refuses_a_restore_and_its_page_shows_the_create()
    {
        await using var h = await SlowClinicAsync();
        await h.CreateBackupAsync();
        var backup = Assert.Single(Directory.GetFiles(h.BackupDirectory, "backup-*.zip"));
        var token = await AdminTokenAsync(h);
        var nodes = await ClusterAppProcess.StartTogetherAsync(h, ["a", "b"], Slow);
        await using var a = nodes[0];
        await using var b = nodes[1];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await page.GotoAsync(new Uri(b.BaseAddress, "Account/Login").ToString());
        await page.FillAsync("#email", Admin);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("[data-testid=login-submit]");
        await BrowserSession.WaitReadyAsync(page);

        using var onA = a.Client(token);
        var create = await onA.PostAsJsonAsync("/api/v1/backups", new { priority = "low" });
        Assert.Equal(HttpStatusCode.Accepted, create.StatusCode);
        using var onB = b.Client(token);
        var restore = await onB.PostAsJsonAsync("/api/v1/backups/restore",
            new { filename = Path.GetFileName(backup), only_db = true });
        var problem = await restore.Content.ReadAsStringAsync();
        Assert.True(restore.StatusCode == HttpStatusCode.Conflict, $"{(int)restore.StatusCode}: {problem}");
        Assert.Contains("Another backup operation is running", problem);

        var banner = await page.WaitForSelectorAsync("[data-testid=job-progress]",
            new PageWaitForSelectorOptions { Timeout = 20_000 });
        Assert.Contains(Admin, await banner!.InnerTextAsync());
        Assert.Equal("succeeded", await WaitFinishedAsync(onA, create.Headers.Location!));
        await page.WaitForSelectorAsync("[data-testid=job-progress]",
            new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached, Timeout = 20_000 });
    }

    /// <summary>A low-priority create reads at a fixed 2 MiB/s: about ten seconds over the clinic's 20 MB of
    /// X-rays.</summary>
    internal static void Slow(Dictionary<string, string> settings)
    {
        settings["Backup__ManualPriority"] = "low";
        settings["Backup__LowPriorityBytesPerSecond"] = "2097152";
        settings["Backup__LowPriorityFollowsLoad"] = "false";
    }

    internal static async Task<EngineHarness> SlowClinicAsync()
    {
        var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await h.SeedAsync();
        for (var i = 0; i < 10; i++)
            TestFolder.WriteFile(Path.Combine(h.Xrays, "cluster", $"scan-{i}.raw"), TestFolder.RandomBytes(2 << 20));
        return h;
    }

    internal static async Task<string> AdminTokenAsync(EngineHarness h)
    {
        var environment = ClusterAppProcess.ClusterEnvironment(h);
        var admin = await AppProcess.RunAsync(environment, Password + "\n", "app:create-admin", Admin);
        Assert.True(admin.ExitCode == 0, admin.Stderr);
        var token = await AppProcess.RunAsync(environment, null, "app:create-token", Admin, "--name", "cluster");
        Assert.True(token.ExitCode == 0, token.Stderr);
        return token.Stdout.Trim();
    }

    /// <summary>Polls a job until it is finished; returns its status.</summary>
    internal static async Task<string> WaitFinishedAsync(HttpClient client, Uri job)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            using var document = JsonDocument.Parse(await client.GetStringAsync(job));
            var status = document.RootElement.GetProperty("data").GetProperty("status").GetString()!;
            if (status is "succeeded" or "failed") return status;
            await Task.Delay(500);
        }
        throw new TimeoutException($"The job {job} did not finish within 3 minutes.");
    }
}
