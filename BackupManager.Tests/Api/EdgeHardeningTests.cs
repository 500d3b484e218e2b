using System.Net;
using System.Text.Json;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Api;

/// <summary>
/// Issue 23, item 8: a chunked upload over the limit answers 413, a return address never leads off-site or to a 500,
/// a malformed connection string is a configuration error (exit 2), and the live page refuses foreign origins.
/// </summary>
public sealed class EdgeHardeningTests
{
    [Fact]
    public async Task A_chunked_upload_over_the_limit_answers_413_naming_the_setting()
    {
        await using var host = await WebAppHost.StartAsync(
            kestrel: true, settings: s => s["Backup:MaxUploadBytes"] = "1000000");
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", await host.CreateTokenAsync("admin@clinic.test"));
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups/upload")
            { Content = new StreamContent(new MemoryStream(new byte[3_000_000])) };
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("Backup__MaxUploadBytes", problem.GetProperty("detail").GetString());
        Assert.Empty(await host.Harness.Engine.ListAsync());
    }

    [Theory]
    [InlineData("/\u2215evil.example")]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("/%2F%2Fevil.example")]
    public async Task A_return_address_never_gives_a_500_or_leads_off_site(string returnUrl)
    {
        // Kestrel refuses what the test server lets through
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);

        var client = SignInForm.Browser(host);
        var response = await client.SendAsync(
            await SignInForm.PrepareAsync(client, "admin@clinic.test", password, returnUrl));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var target = new Uri(host.BaseAddress, response.Headers.Location!);
        Assert.Equal(host.BaseAddress.Authority, target.Authority);
        Assert.All(response.Headers.Location!.OriginalString, c => Assert.InRange(c, '!', '~'));
    }

    [Fact]
    public async Task A_plain_local_return_address_is_kept()
    {
        await using var host = await WebAppHost.StartAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var client = SignInForm.Browser(host);
        var response = await client.SendAsync(
            await SignInForm.PrepareAsync(client, "admin@clinic.test", password, "/audit?page=2"));
        Assert.Equal("/audit?page=2", new Uri(host.BaseAddress, response.Headers.Location!).PathAndQuery);
    }

    [Theory]
    [InlineData("ConnectionStrings__Default", "app:list-backups")]
    [InlineData("ConnectionStrings__Accounts", "app:list-tokens")]
    [InlineData("Backup__Database", "app:list-backups")]
    [InlineData("ConnectionStrings__Default", null)]
    public async Task A_malformed_connection_string_ends_with_exit_code_2_naming_the_setting(
        string setting, string? command)
    {
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var env = AppProcess.EnvironmentFor(h, connectionString: "Host=127.0.0.1;Database=clinic");
        env[setting] = "Host=127.0.0.1;Password=not-shown;this is not a setting";
        env["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        var result = command is null
            ? await AppProcess.RunAsync(env, null)
            : await AppProcess.RunAsync(env, null, command);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains($"{setting} is not a valid PostgreSQL connection string", result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
        Assert.DoesNotContain("not-shown", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task The_live_page_connection_refuses_a_foreign_origin()
    {
        await using var host = await WebAppHost.StartAsync(
            settings: s => s["Backup:Web:AllowedOrigins:0"] = "https://backups.clinic.example");
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var signedIn = await host.SignInAsync("admin@clinic.test", password);

        async Task<HttpStatusCode> NegotiateAsync(string? origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/_blazor/negotiate?negotiateVersion=1");
            if (origin is not null) request.Headers.Add("Origin", origin);
            return (await signedIn.Http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await NegotiateAsync("https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await NegotiateAsync("http://localhost.evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await NegotiateAsync("null"));
        Assert.Equal(
            HttpStatusCode.OK, await NegotiateAsync($"{host.BaseAddress.Scheme}://{host.BaseAddress.Authority}"));
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync("https://backups.clinic.example"));
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(null));
        var hub = new HttpRequestMessage(HttpMethod.Get, "/_blazor?id=x")
        {
            Headers = { { "Origin", "https://evil.example" } },
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.Http.SendAsync(hub)).StatusCode);
    }
}
