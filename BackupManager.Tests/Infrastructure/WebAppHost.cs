using System.Net;
using System.Text.RegularExpressions;
using BackupManager.Web.Identity;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// The real web app (Program) over a test's own database and folders. With <c>kestrel: true</c> it listens on a real
/// 127.0.0.1 port for the browser tests; otherwise requests go through the in-memory test server.
/// </summary>
public sealed partial class WebAppHost : IAsyncDisposable
{
    private WebAppHost(EngineHarness harness, WebApplicationFactory<Program> factory, Uri baseAddress, bool kestrel)
    {
        UsesKestrel = kestrel;
        Harness = harness;
        Factory = factory;
        BaseAddress = baseAddress;
    }

    public EngineHarness Harness { get; }
    public WebApplicationFactory<Program> Factory { get; }
    public Uri BaseAddress { get; }
    /// <summary>True when the app listens on a real port (requests then pass Kestrel's own checks).</summary>
    public bool UsesKestrel { get; }

    /// <summary>
    /// Starts the app over a new harness, or over <paramref name="harness"/> (which the host then disposes).
    /// </summary>
    public static async Task<WebAppHost> StartAsync(
        bool kestrel = false,
        Action<Dictionary<string, string?>>? settings = null,
        Action<IServiceCollection>? services = null,
        EngineHarness? harness = null)
    {
        harness ??= await EngineHarness.CreateAsync();
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = harness.Database.ConnectionString,
            ["Backup:Directory"] = harness.BackupDirectory,
            ["Backup:Paths:0"] = harness.Xrays,
            ["Backup:Paths:1"] = harness.Documents,
            ["Backup:TimeZone"] = "Europe/Paris",
            ["MAX_BACKUPS"] = "10",
            // Schedules would start a catch-up backup right away; tests that want them turn them on.
            ["Backup:SchedulesEnabled"] = "false",
            // The harness makes backups outside the app, as a console command would: the copier's poll finds them.
            ["Backup:OffsitePoll"] = "00:00:05",
        };
        settings?.Invoke(values);
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            // Development serves the static web assets (MudBlazor's CSS and JS) straight from the build output.
            builder.UseEnvironment("Development");
            foreach (var (key, value) in values) builder.UseSetting(key, value);
            if (services is not null) builder.ConfigureServices(services);
        });
        Uri address;
        if (kestrel)
        {
            factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
            var addresses = factory.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()!.Addresses;
            address = new Uri(addresses.First());
        }
        else
        {
            factory.StartServer();
            address = factory.Server.BaseAddress;
        }
        return new WebAppHost(harness, factory, address, kestrel);
    }

    /// <summary>Creates a user with a random password and returns the password.</summary>
    public async Task<string> CreateUserAsync(string email, bool administrator)
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        await using var scope = Factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<UserAccountService>()
            .CreateAsync(email, password, administrator);
        return password;
    }

    public async Task<string> CreateTokenAsync(string email, TimeSpan? expiresIn = null)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PersonalAccessTokenService>()
            .CreateAsync(email, "test", expiresIn: expiresIn);
    }

    public async Task RevokeTokenAsync(string token)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        Assert.True(
            await scope.ServiceProvider.GetRequiredService<PersonalAccessTokenService>().RevokeAsync(token[..10]));
    }

    public async Task SetAdministratorAsync(string email, bool administrator)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<UserAccountService>()
            .SetAdministratorAsync(email, administrator);
    }

    /// <summary>A client without cookies or redirects, optionally with a bearer token.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = Factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = false,
            BaseAddress = BaseAddress,
        });
        if (token is not null)
            client.DefaultRequestHeaders.Authorization =
                new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// A client signed in through the real login form; <see cref="SignedInClient.CsrfToken"/> is a valid
    /// X-CSRF-TOKEN.
    /// </summary>
    public async Task<SignedInClient> SignInAsync(string email, string password)
    {
        var client = Factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = true,
            BaseAddress = BaseAddress,
        });
        var form = await client.GetStringAsync("/Account/Login");
        var response = await client.PostAsync("/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = AntiforgeryField(form),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        // Any authenticated page renders a token for this user (the sign-out form carries one).
        var page = await client.GetAsync("/Account/AccessDenied");
        return new SignedInClient(client, AntiforgeryField(await page.Content.ReadAsStringAsync()));
    }

    private static string AntiforgeryField(string html) =>
        AntiforgeryInput().Match(html) is { Success: true } m
            ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException("No antiforgery field in the page.");

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Harness.DisposeAsync();
    }
}

public sealed record SignedInClient(HttpClient Http, string CsrfToken);
