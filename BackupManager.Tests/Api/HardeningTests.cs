using System.Net;
using System.Text.Json;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Api;

/// <summary>
/// Issue 15's first part, against the running app over HTTP or as a process (private files whatever the umask are in
/// <see cref="FileModeHardeningTests"/>): sign-in limits that every spelling of the path counts against, capped
/// audit fields, future-dated uploads refused, forwarded headers only from configured proxies, HTTPS redirection and
/// HSTS, and security headers everywhere.
/// </summary>
public sealed class HardeningTests
{
    [Fact]
    public async Task Every_spelling_of_the_sign_in_path_counts_against_one_budget()
    {
        await using var host = await WebAppHost.StartAsync(settings: s => s["Backup:LoginAttemptsPerMinute"] = "3");
        var client = host.Client();
        var statuses = new List<HttpStatusCode>();
        foreach (var path in new[] { "/Account/Login/", "/account/LOGIN", "/Account/%4Cogin", "/Account/Login" })
        {
            var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.Email"] = "x@y.z" });
            statuses.Add((await client.PostAsync(path, form)).StatusCode);
        }
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[3]);
    }

    [Fact]
    public async Task A_megabyte_long_e_mail_adds_at_most_a_few_hundred_bytes_to_the_audit_log()
    {
        await using var host = await WebAppHost.StartAsync();
        var auditLog = Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName);
        var before = File.Exists(auditLog) ? new FileInfo(auditLog).Length : 0;
        await PostSignInAsync(
            BrowserLikeClient(host), new string('a', 1 << 20) + "@clinic.example", "wrong password here");

        var grown = new FileInfo(auditLog).Length - before;
        Assert.InRange(grown, 1, 2_000);
        var line = File.ReadLines(auditLog).Last();
        Assert.Contains("…[cut]", JsonDocument.Parse(line).RootElement.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Refused_api_calls_are_audited_with_the_address_and_only_the_tokens_public_prefix()
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("reception@clinic.test", administrator: false);
        var reception = await host.CreateTokenAsync("reception@clinic.test");
        const string guessed = "bm_guessed0123456789abcdefghijklmnopqrstuv";

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client(guessed).GetAsync("/api/v1/backups")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client(reception).GetAsync("/api/v1/backups")).StatusCode);

        var log = File.ReadAllLines(Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("action").GetString() == "api").ToList();
        Assert.Contains(log, e => e.GetProperty("actor").GetString() == "token bm_guessed"
            && e.GetProperty("detail").GetString()!.StartsWith("401", StringComparison.Ordinal));
        Assert.Contains(log, e => e.GetProperty("actor").GetString() == "reception@clinic.test (token)"
            && e.GetProperty("detail").GetString()!.StartsWith("403", StringComparison.Ordinal));
        var text = string.Concat(host.Factory.Services.GetRequiredService<Core.Audit.AuditLog>()
            .Read(take: 1000).Select(e => e.ToString()));
        Assert.DoesNotContain(guessed, text);
        Assert.DoesNotContain(reception, text);
    }

    [Fact]
    public async Task A_flood_of_refused_api_calls_cannot_rotate_the_history_out_of_the_audit_log()
    {
        // A clock that stands still, so the 60 calls cannot straddle a minute boundary.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WebAppHost.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var client = host.Client();
        for (var i = 0; i < 60; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/backups")).StatusCode);

        var lines = File.ReadLines(Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName))
            .Where(l => l.Contains("\"api\"")).ToList();
        Assert.Equal(Web.Security.ApiRefusalAudit.PerAddressPerMinute + 1, lines.Count);
        Assert.Contains("the rest of the minute is not recorded", lines[^1]);
    }

    [Fact]
    public async Task An_upload_dated_in_the_future_is_refused_with_422_and_saying_why()
    {
        // An archive made on a machine whose clock says 2099.
        var clock = new FixedClock(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var future = await EngineHarness.CreateAsync(
            replaceServices: s => s.AddSingleton<TimeProvider>(clock));
        await future.SeedAsync();
        var archive = await File.ReadAllBytesAsync(future.PathOf((await future.CreateBackupAsync()).Filename));

        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var response = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(archive));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("The archive was refused", problem.GetProperty("title").GetString());
        Assert.Contains("in the future", problem.GetProperty("detail").GetString());
        Assert.Empty(await host.Harness.Engine.ListAsync());
    }

    [Fact]
    public async Task An_upload_from_another_installation_is_listed_as_foreign_and_restored_only_with_allow_foreign()
    {
        await using var elsewhere = await EngineHarness.CreateAsync(withDatabase: false);
        TestFolder.WriteFile(Path.Combine(elsewhere.Documents, "note.txt"), "from elsewhere"u8.ToArray());
        var archive = await File.ReadAllBytesAsync(
            elsewhere.PathOf((await elsewhere.CreateBackupAsync(BackupScope.FilesOnly)).Filename));

        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var upload = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(archive));
        var uploaded = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
        Assert.True(uploaded.GetProperty("foreign").GetBoolean());
        var filename = uploaded.GetProperty("filename").GetString()!;
        var listed = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/backups"))
            .RootElement.GetProperty("data")[0];
        Assert.True(listed.GetProperty("foreign").GetBoolean());

        var refused = await admin.PostAsync(
            "/api/v1/backups/restore", System.Net.Http.Json.JsonContent.Create(new { filename, only_files = true }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var refusal = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("allow_foreign", refusal.GetProperty("detail").GetString());

        var confirmed = await admin.PostAsync(
            "/api/v1/backups/restore",
            System.Net.Http.Json.JsonContent.Create(new { filename, only_files = true, allow_foreign = true }));
        Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);
    }

    [Fact]
    public async Task A_token_stops_working_when_it_expires_and_its_refusal_is_audited()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WebAppHost.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var token = await host.CreateTokenAsync("admin@clinic.test", TimeSpan.FromDays(90));
        Assert.Equal(HttpStatusCode.OK, (await host.Client(token).GetAsync("/api/v1/backups")).StatusCode);

        clock.Advance(TimeSpan.FromDays(90) + TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client(token).GetAsync("/api/v1/backups")).StatusCode);
        var refused = File.ReadLines(Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName))
            .Last(l => l.Contains("\"api\""));
        Assert.Contains($"token {token[..10]}", refused);
    }

    [Fact]
    public async Task The_console_creates_expiring_tokens_and_says_when_a_lifetime_does_not_parse()
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var env = AppProcess.EnvironmentFor(host.Harness);

        var created = await AppProcess.RunAsync(
            env, null, "app:create-token", "admin@clinic.test", "--name", "nightly", "--expires-in", "90d");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var withToken = await host.Client(created.Stdout.Trim()).GetAsync("/api/v1/backups");
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        var list = await AppProcess.RunAsync(env, null, "app:list-tokens");
        Assert.Contains($"active, expires {DateTimeOffset.UtcNow.AddDays(90):yyyy-MM-dd}", list.Stdout);

        var bad = await AppProcess.RunAsync(env, null, "app:create-token", "admin@clinic.test", "--expires-in", "soon");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--expires-in soon is not a lifetime", bad.Stderr);

        // Revoked from the console, by someone else than its owner: audited as such, like on the page.
        var revoked = await AppProcess.RunAsync(env, null, "app:revoke-token", created.Stdout.Trim()[..10]);
        Assert.True(revoked.ExitCode == 0, revoked.Stderr);
        var line = File.ReadLines(Path.Combine(host.Harness.BackupDirectory, "audit.log"))
            .Last(l => l.Contains("revoke-token"));
        Assert.Contains("console:", line);
        Assert.Contains("revoked a token of another user, admin@clinic.test", line);
    }

    [Fact]
    public async Task Uploads_do_not_count_as_the_newest_backup_for_health()
    {
        await using var other = await EngineHarness.CreateAsync();
        await other.SeedAsync();
        var archive = await File.ReadAllBytesAsync(other.PathOf((await other.CreateBackupAsync()).Filename));
        await using var h = await EngineHarness.CreateAsync();
        await h.Engine.ImportAsync(new MemoryStream(archive), long.MaxValue, "admin@clinic.test");

        Assert.Single(await h.Engine.ListAsync());
        Assert.Null((await h.Engine.GetStatusAsync()).Newest); // no backup made here yet: health must say so
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/Account/Login")]
    [InlineData("/health")]
    [InlineData("/api/v1/backups")]
    public async Task Every_response_carries_the_security_headers(string path)
    {
        await using var host = await WebAppHost.StartAsync();
        var response = await host.Client().GetAsync(path);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task With_RequireHttps_plain_http_is_redirected_and_https_answers_carry_hsts_and_secure_cookies()
    {
        await using var host = await WebAppHost.StartAsync(settings: s => s["Backup:Web:RequireHttps"] = "true");
        var redirect = await host.Client().GetAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
        Assert.Equal("https", redirect.Headers.Location!.Scheme);

        var https = host.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        { BaseAddress = new Uri("https://clinic.example"), AllowAutoRedirect = false });
        var page = await https.GetAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("max-age=31536000", page.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.All(
            page.Headers.GetValues("Set-Cookie"),
            cookie => Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_forwarded_address_is_believed_only_from_a_configured_proxy()
    {
        foreach (var (proxies, expected) in new[] { ((string?)null, "127.0.0.1"), ("127.0.0.1", "203.0.113.7") })
        {
            await using var host = await WebAppHost.StartAsync(kestrel: true, settings: s =>
            {
                if (proxies is not null) s["Backup:Web:KnownProxies:0"] = proxies;
            });
            using var client = new HttpClient { BaseAddress = host.BaseAddress };
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/backups")
            {
                Headers = { { "X-Forwarded-For", "203.0.113.7" } },
            };
            request.Headers.Authorization =
                new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "bm_not-a-real-token");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
            var address = await ReadAddressOfLastSignInAttemptAsync(host, client);
            Assert.Equal(expected, address);
        }
    }

    /// <summary>Fails one sign-in and returns the address the audit log recorded for it.</summary>
    private static async Task<string?> ReadAddressOfLastSignInAttemptAsync(WebAppHost host, HttpClient client)
    {
        var handler = new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = client.BaseAddress };
        browser.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        await PostSignInAsync(browser, "nobody@clinic.example", "wrong password here");
        var line = File.ReadLines(Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName))
            .Last(l => l.Contains("\"login\""));
        return JsonDocument.Parse(line).RootElement.GetProperty("address").GetString();
    }

    /// <summary>
    /// Posts the real sign-in form (with its antiforgery token) and returns the page it answers with.
    /// </summary>
    private static async Task<(HttpStatusCode Status, string Page)> PostSignInAsync(
        HttpClient client, string email, string password)
    {
        var form = await client.GetStringAsync("/Account/Login");
        var token = System.Text.RegularExpressions.Regex
            .Match(form, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        var fields = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });
        var response = await client.PostAsync("/Account/Login", fields);
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A client that keeps cookies (the antiforgery cookie must come back with the form).</summary>
    private static HttpClient BrowserLikeClient(WebAppHost host) =>
        host.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = true,
            BaseAddress = host.BaseAddress,
        });

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
