using System.Net;
using System.Net.Http.Json;
using BackupManager.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Api;

/// <summary>
/// Who may call the API: the anonymous / no-permission / token / revoked-token matrix, CSRF, and traversal.
/// </summary>
public sealed class ApiSecurityTests
{
    private const string Existing = "backup-2026-01-01-00-00-00.zip";

    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/api/v1/backups" },
        { "POST", "/api/v1/backups" },
        { "POST", "/api/v1/backups/restore" },
        { "GET", $"/api/v1/backups/download/{Existing}" },
        { "DELETE", $"/api/v1/backups/{Existing}" },
        { "GET", $"/api/v1/backups/jobs/{Guid.Empty}" },
        { "POST", "/api/v1/backups/upload" },
        { "POST", $"/api/v1/backups/{Existing}/pin" },
        { "GET", "/api/v1/pitr" },
        { "GET", "/openapi/v1.json" },
    };

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path)
        {
            Content = method == "GET" ? null : JsonContent.Create(new { filename = Existing }),
        };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Callers_without_the_permission_are_refused_with_problem_details_and_no_redirect(
        string method, string path)
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await host.CreateUserAsync("reception@clinic.test", administrator: false);
        var adminToken = await host.CreateTokenAsync("admin@clinic.test");
        var receptionToken = await host.CreateTokenAsync("reception@clinic.test");
        var revoked = await host.CreateTokenAsync("admin@clinic.test");
        await host.RevokeTokenAsync(revoked);
        File.WriteAllText(host.Harness.PathOf(Existing), "placeholder");

        foreach (var (client, expected) in new[]
        {
            (host.Client(), HttpStatusCode.Unauthorized),
            (host.Client("bm_not-a-real-token"), HttpStatusCode.Unauthorized),
            (host.Client(revoked), HttpStatusCode.Unauthorized),
            (host.Client(receptionToken), HttpStatusCode.Forbidden),
        })
        {
            var response = await client.SendAsync(Request(method, path));
            Assert.Equal(expected, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.True(File.Exists(host.Harness.PathOf(Existing)));

        var allowed = await host.Client(adminToken).SendAsync(Request(method, path));
        Assert.NotEqual(HttpStatusCode.Unauthorized, allowed.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, allowed.StatusCode);
    }

    [Fact]
    public async Task A_token_loses_access_as_soon_as_its_user_loses_the_permission()
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var token = await host.CreateTokenAsync("admin@clinic.test");
        Assert.Equal(HttpStatusCode.OK, (await host.Client(token).GetAsync("/api/v1/backups")).StatusCode);

        await host.SetAdministratorAsync("admin@clinic.test", false);

        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client(token).GetAsync("/api/v1/backups")).StatusCode);
    }

    [Fact]
    public async Task Cookie_authenticated_changes_need_the_antiforgery_header_and_bearer_calls_do_not()
    {
        await using var host = await WebAppHost.StartAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var signedIn = await host.SignInAsync("admin@clinic.test", password);
        File.WriteAllText(Path.Combine(host.Harness.Documents, "a.txt"), "a");

        // The cookie alone works for reading.
        Assert.Equal(HttpStatusCode.OK, (await signedIn.Http.GetAsync("/api/v1/backups")).StatusCode);

        // A forged cross-site POST (cookie, no token) is refused and starts nothing.
        var forged = await signedIn.Http.PostAsJsonAsync("/api/v1/backups", new { only_files = true });
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("X-CSRF-TOKEN", await forged.Content.ReadAsStringAsync());
        var wrongToken = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups")
        {
            Content = JsonContent.Create(new { only_files = true }),
        };
        wrongToken.Headers.Add("X-CSRF-TOKEN", "forged");
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.Http.SendAsync(wrongToken)).StatusCode);
        // no job was even started (a job is registered before its request is answered)
        var runner = host.Factory.Services.GetRequiredService<Core.Jobs.BackupJobRunner>();
        Assert.Empty(runner.Recent);

        var genuine = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups")
        {
            Content = JsonContent.Create(new { only_files = true }),
        };
        genuine.Headers.Add("X-CSRF-TOKEN", signedIn.CsrfToken);
        var accepted = await signedIn.Http.SendAsync(genuine);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        // Once the genuine create has finished, anything the refused ones had set off would have finished too.
        var location = accepted.Headers.Location!.ToString();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (runner.Recent.Any(j => j.Status is not (Core.Jobs.BackupJobStatus.Succeeded
            or Core.Jobs.BackupJobStatus.Failed)) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(location, $"/api/v1/backups/jobs/{Assert.Single(runner.Recent).Id}");
        Assert.Single(await host.Harness.Engine.ListAsync());
    }

    public static TheoryData<string> TraversalNames => new()
    {
        "..%2f..%2fsentinel.txt", "%2e%2e%2fsentinel.txt", "..%252f..%252fsentinel.txt", "..%5c..%5csentinel.txt",
        "%2fetc%2fpasswd", "sentinel.txt", "backup-2026-01-01-00-00-0%EF%BC%90.zip",
        Uri.EscapeDataString(new string('a', 3000)), "backup-2026-01-01-00-00-00.zip%2f..%2f..%2fsentinel.txt",
        "..%c0%af..%c0%afsentinel.txt",
    };

    [Theory]
    [MemberData(nameof(TraversalNames))]
    public async Task Traversal_and_encoding_tricks_answer_400_or_404_and_touch_nothing_outside_the_folder(
        string encodedName)
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var sentinel = Path.Combine(Path.GetDirectoryName(host.Harness.BackupDirectory)!, "sentinel.txt");
        File.WriteAllText(sentinel, "SENTINEL-SECRET");

        foreach (var (method, path) in new[]
        {
            ("GET", $"/api/v1/backups/download/{encodedName}"),
            ("DELETE", $"/api/v1/backups/{encodedName}"),
            ("POST", $"/api/v1/backups/{encodedName}/pin"),
        })
        {
            var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.True(
                response.StatusCode
                    is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed,
                $"{method} {path}: {response.StatusCode}");
            Assert.DoesNotContain("SENTINEL-SECRET", await response.Content.ReadAsStringAsync());
        }
        var restore = await admin.PostAsJsonAsync(
            "/api/v1/backups/restore", new { filename = Uri.UnescapeDataString(encodedName) });
        Assert.True(
            restore.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, restore.StatusCode.ToString());
        Assert.Equal("SENTINEL-SECRET", File.ReadAllText(sentinel));
    }
}

public sealed class RateLimitTests
{
    [Fact]
    public async Task Sign_in_attempts_and_token_requests_are_rate_limited_per_address()
    {
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:LoginAttemptsPerMinute"] = "3";
            s["Backup:TokenRequestsPerMinute"] = "5";
        });
        var client = host.Client();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.Email"] = "x@y.z" });
            statuses.Add((await client.PostAsync("/Account/Login", form)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(3, statuses.Count(s => s != HttpStatusCode.TooManyRequests));

        var bearer = host.Client("bm_guessing");
        var tokenStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++) tokenStatuses.Add((await bearer.GetAsync("/api/v1/backups")).StatusCode);
        Assert.Equal(5, tokenStatuses.Count(s => s == HttpStatusCode.Unauthorized));
        var limited = await bearer.GetAsync("/api/v1/backups");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(limited.Headers.RetryAfter);
    }
}

public sealed class AfterRestoreTests
{
    [Fact]
    public async Task A_restore_never_revives_revoked_tokens_or_permissions_and_the_backed_up_database_lacks_accounts()
    {
        await using var host = await WebAppHost.StartAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await host.CreateUserAsync("former@clinic.test", administrator: true);
        var revokedLater = await host.CreateTokenAsync("admin@clinic.test");
        var formerToken = await host.CreateTokenAsync("former@clinic.test");
        Assert.Equal(HttpStatusCode.OK, (await host.Client(formerToken).GetAsync("/api/v1/backups")).StatusCode);
        var backup = await host.Harness.CreateBackupAsync();

        await host.RevokeTokenAsync(revokedLater);          // a leaked token, revoked after the backup
        await host.SetAdministratorAsync("former@clinic.test", false); // app:revoke-admin, after the backup
        await host.Harness.RestoreAsync(backup.Filename);

        Assert.Equal(
            HttpStatusCode.Unauthorized, (await host.Client(revokedLater).GetAsync("/api/v1/backups")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client(formerToken).GetAsync("/api/v1/backups")).StatusCode);
        Assert.Null(await host.Harness.Database.ScalarAsync<string>(
            "SELECT to_regclass('public.\"AspNetUsers\"')::text"));
        Assert.Null(await host.Harness.Database.ScalarAsync<string>(
            "SELECT to_regclass('public.\"PersonalAccessTokens\"')::text"));
    }

    [Fact]
    public async Task After_restore_a_session_goes_to_the_backups_page_and_a_signed_out_one_to_sign_in_with_the_reason()
    {
        await using var host = await WebAppHost.StartAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var kept = await host.SignInAsync("admin@clinic.test", password);

        var stillValid = await kept.Http.GetAsync("/Account/AfterRestore");
        Assert.Equal(HttpStatusCode.Redirect, stillValid.StatusCode);
        Assert.EndsWith("/backups", stillValid.Headers.Location!.OriginalString);

        var anonymous = await host.Client().GetAsync("/Account/AfterRestore");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.Contains("/Account/Login?message=", anonymous.Headers.Location!.OriginalString);
    }
}

public sealed class AccountsDatabaseTests
{
    [Fact]
    public async Task Accounts_of_an_installation_from_before_the_split_are_moved_out_of_the_backed_up_database_once()
    {
        await using var application = await TestPostgres.CreateDatabaseAsync();
        await using var accounts = await TestPostgres.CreateDatabaseAsync();
        // The older installation: the account tables, made by its migration, in the application database, with a user.
        var legacyOptions = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Web.Data.ApplicationDbContext>()
            .UseNpgsql(application.ConnectionString).Options;
        await using (var legacy = new Web.Data.ApplicationDbContext(legacyOptions))
            await Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions
                .GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>(legacy.Database)
                .MigrateAsync("20261127051450_CreateIdentitySchema");
        await application.ExecuteAsync(
            "INSERT INTO \"AspNetUsers\" (\"Id\", \"UserName\", \"NormalizedUserName\", \"Email\", "
            + "\"NormalizedEmail\", \"EmailConfirmed\", \"PasswordHash\", \"SecurityStamp\",\n"
            + "    \"PhoneNumberConfirmed\", \"TwoFactorEnabled\", \"LockoutEnabled\", \"AccessFailedCount\")\n"
            + "VALUES ('u1', 'dr@clinic.test', 'DR@CLINIC.TEST', 'dr@clinic.test', 'DR@CLINIC.TEST', true, "
            + "'hash', 'stamp', false, false, false, 0);");
        var currentOptions = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Web.Data.ApplicationDbContext>()
            .UseNpgsql(accounts.ConnectionString).Options;
        await using (var current = new Web.Data.ApplicationDbContext(currentOptions))
            await current.Database.MigrateAsync();

        var moved = await Web.Data.AccountsDatabase.MoveLegacyAccountsAsync(
            application.ConnectionString, accounts.ConnectionString, CancellationToken.None);

        Assert.Contains("Moved 1 account(s)", moved);
        Assert.Equal(
            ["dr@clinic.test|hash"],
            await accounts.RowsAsync("SELECT \"Email\", \"PasswordHash\" FROM \"AspNetUsers\""));
        Assert.Null(await application.ScalarAsync<string>("SELECT to_regclass('public.\"AspNetUsers\"')::text"));
        Assert.Null(await Web.Data.AccountsDatabase.MoveLegacyAccountsAsync(
            application.ConnectionString, accounts.ConnectionString, CancellationToken.None));
    }
}
