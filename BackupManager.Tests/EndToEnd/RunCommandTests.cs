using System.Net.Sockets;
using System.Text.Json;
using BackupManager.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// The README's run command, as a new user types it: a fresh clone in a private folder (like a home directory), run
/// as root under umask 022 and then again under 077, signed in with the printed password in Chromium, with console
/// commands beside it; --demo turns point-in-time recovery on (streaming through its replication role, a window from
/// a first base backup). Nothing of the test run's own settings reaches the script.
/// </summary>
public sealed class RunCommandTests
{
    [Fact]
    public async Task A_fresh_clone_runs_signs_in_takes_console_commands_and_a_second_run_reuses_everything()
    {
        var parent = Directory.CreateTempSubdirectory("bm-first-hour-").FullName; // 0700, as /root is
        var clone = Path.Combine(parent, "clinic");
        try
        {
            var git = await ScriptProcess.RunAsync(
                parent, "022", new Dictionary<string, string>(), TimeSpan.FromMinutes(2),
                "git", "clone", "-q", BrowserSession.RepositoryRoot(), clone);
            Assert.True(git.ExitCode == 0, git.Output);
            var port = FreePort();
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Backup__CatchUpDelay"] = "00:00:01", // a new install must catch nothing up: look soon
            };

            string password;
            string? firstBase;
            await using (var app = ScriptProcess.Start(clone, "022", environment, "./scripts/run.sh", "--demo"))
            {
                var created = await app.WaitForAsync(@"Sign in as (\S+) with password (\S+) \(shown only this once\)",
                    TimeSpan.FromMinutes(12));
                password = created.Groups[2].Value;
                await app.WaitForAsync("Now listening on", TimeSpan.FromMinutes(2));
                await SignInAndSeeBackupsAsync(port, created.Groups[1].Value, password);

                var create = await ConsoleAsync(clone, environment, "app:create-backup");
                Assert.True(create.ExitCode == 0, create.Output);
                Assert.Single(Backups(await ConsoleAsync(clone, environment, "app:list-backups", "--json")));
                firstBase = (await StreamingWithWindowAsync(clone, environment)).GetProperty("last_base_backup")
                    .GetString();
            }
            AssertPrivate(clone);
            Assert.Equal("postgres", await OwnerAsync(Path.Combine(clone, ".data", "pg", "data")));

            await using (var again = ScriptProcess.Start(clone, "077", environment, "./scripts/run.sh", "--demo"))
            {
                await again.WaitForAsync("Now listening on", TimeSpan.FromMinutes(8));
                Assert.DoesNotContain("with password", again.Output, StringComparison.Ordinal);
                await SignInAndSeeBackupsAsync(port, "admin@clinic.local", password);
                var list = Backups(await ConsoleAsync(clone, environment, "app:list-backups", "--json"));
                Assert.Equal("manual", Assert.Single(list).GetProperty("trigger").GetString());
                // Point-in-time recovery stays on; the second run took no second base backup.
                var status = await StreamingWithWindowAsync(clone, environment);
                Assert.Equal(firstBase, status.GetProperty("last_base_backup").GetString());
            }
            AssertPrivate(clone);
        }
        finally
        {
            await ScriptProcess.RunAsync(clone, "022", new Dictionary<string, string>(), TimeSpan.FromMinutes(1),
                "./scripts/run.sh", "--stop");
            var cluster = new DirectoryInfo(Path.Combine(clone, ".data", "pg"));
            if (cluster.LinkTarget is { } target) Directory.Delete(target, recursive: true);
            Directory.Delete(parent, recursive: true);
        }
    }

    private static async Task SignInAndSeeBackupsAsync(int port, string email, string password)
    {
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await page.GotoAsync($"http://127.0.0.1:{port}/backups");
        await page.WaitForURLAsync("**/Account/Login**");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=login-submit]");
        await page.WaitForSelectorAsync("[data-testid=page-ready]",
            new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 60_000 });
        Assert.EndsWith("/backups", page.Url, StringComparison.Ordinal);
    }

    /// <summary>Waits until app:pitr-status shows the demo's receiver streaming through the replication role and a
    /// window that has begun (the first base backup); returns the status.</summary>
    private static async Task<JsonElement> StreamingWithWindowAsync(string clone,
        Dictionary<string, string> environment)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var result = await ConsoleAsync(clone, environment, "app:pitr-status", "--json");
            Assert.True(result.ExitCode == 0, result.Output);
            var line = result.Output[(result.Output.LastIndexOf("\n{", StringComparison.Ordinal) + 1)..];
            var status = JsonDocument.Parse(line).RootElement.Clone();
            if (status.GetProperty("enabled").GetBoolean()
                && status.GetProperty("streaming").ValueKind == JsonValueKind.True
                && status.GetProperty("window_from").ValueKind == JsonValueKind.String
                && status.GetProperty("last_base_backup").ValueKind == JsonValueKind.String) return status;
            Assert.True(DateTime.UtcNow < deadline, "Point-in-time recovery is not streaming with a window: " + line);
            await Task.Delay(500);
        }
    }

    private static Task<(int ExitCode, string Output)> ConsoleAsync(
        string clone, Dictionary<string, string> environment,
        params string[] command) =>
        ScriptProcess.RunAsync(clone, "022", environment, TimeSpan.FromMinutes(5), ["./scripts/run.sh", .. command]);

    private static List<JsonElement> Backups((int ExitCode, string Output) listed)
    {
        Assert.True(listed.ExitCode == 0, listed.Output);
        var json = listed.Output[listed.Output.IndexOf('[', StringComparison.Ordinal)..];
        return JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
    }

    private static void AssertPrivate(string clone)
    {
        foreach (var folder in new[] { "backups", "clinic-files" })
        {
            var root = Path.Combine(clone, ".data", folder);
            Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(root)); // 0700
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
                Assert.True((File.GetUnixFileMode(file) & (UnixFileMode)0x3F) == 0, $"{file} is readable by others");
        }
    }

    private static async Task<string> OwnerAsync(string path)
    {
        var stat = await ScriptProcess.RunAsync("/", "022", new Dictionary<string, string>(), TimeSpan.FromSeconds(10),
            "stat", "-L", "-c", "%U", path);
        return stat.Output.Trim();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
