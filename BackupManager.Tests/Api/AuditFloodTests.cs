using System.Net;
using BackupManager.Core.Audit;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Api;

/// <summary>
/// Issue 23, item 6: anonymous refusals have a log of their own, so no flood rotates real actions away.
/// </summary>
public sealed class AuditFloodTests
{
    [Fact]
    public async Task Refusals_from_500_addresses_never_rotate_sign_ins_api_calls_or_deletions_out_of_the_audit_log()
    {
        var harness = await EngineHarness.CreateAsync();
        // Small files, so the flood below is many times what both of them hold.
        const long fileBytes = 16_000;
        await using var host = await WebAppHost.StartAsync(harness: harness,
            settings: s =>
            {
                s["Backup:LoginAttemptsPerMinute"] = "1000";
                s["Backup:TokenRequestsPerMinute"] = "1000";
            },
            services: s =>
            {
                TestClientAddress.Register(s);
                s.AddSingleton(sp =>
                    new AuditLog(
                        harness.BackupDirectory, sp.GetRequiredService<TimeProvider>(), null, fileBytes, keepFiles: 2));
            });
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var signIn = await SignInForm.PostAsync(SignInForm.Browser(host, "10.200.0.1"), "admin@clinic.test", password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.Status);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/backups")).StatusCode);
        const string missing = "/api/v1/backups/backup-2020-01-01-00-00-00.zip";
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync(missing)).StatusCode);

        for (var client = 1; client <= 500; client++)
        {
            var anonymous = host.Client();
            anonymous.DefaultRequestHeaders.Add(TestClientAddress.Header, TestClientAddress.For(client));
            var guessing = host.Client("bm_guessed" + client.ToString("D6"));
            guessing.DefaultRequestHeaders.Add(TestClientAddress.Header, TestClientAddress.For(client));
            for (var i = 0; i < 3; i++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/backups")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await guessing.DeleteAsync(missing)).StatusCode);
            if (client % 10 != 0) continue;
            var browser = SignInForm.Browser(host, TestClientAddress.For(client));
            var answer = (await SignInForm.PostAsync(browser, "admin@clinic.test", "guess")).Answer;
            Assert.Equal("Wrong e-mail or password.", answer);
        }

        var actions = File.ReadAllLines(Path.Combine(harness.BackupDirectory, AuditLog.FileName))
            .Select(l => System.Text.Json.JsonSerializer.Deserialize<AuditEntry>(l, Core.BackupJson.Options)!).ToList();
        Assert.Contains(
            actions, e => e is { Action: "login", Actor: "admin@clinic.test", Outcome: AuditOutcome.Succeeded });
        Assert.Contains(
            actions, e => e is { Action: "api", Target: "GET /api/v1/backups", Outcome: AuditOutcome.Succeeded });
        Assert.Contains(actions, e => e is { Action: "delete", Actor: "admin@clinic.test (token)" });
        Assert.DoesNotContain(actions, e => e.Actor == "anonymous" || e.Outcome == AuditOutcome.Failed);

        var refusals = Path.Combine(harness.BackupDirectory, AuditLog.RefusalsFileName);
        Assert.True(File.Exists(refusals + ".1"), "the flood filled the refusals log more than once");

        // The page still shows both, newest first: the last refusals, then the real actions before them.
        var log = host.Factory.Services.GetRequiredService<AuditLog>().Read(take: 10_000);
        Assert.Equal(TestClientAddress.For(500), log[0].Address);
        Assert.Contains(log, e => e is { Action: "login", Outcome: AuditOutcome.Succeeded });
        Assert.Contains(log, e => e is { Action: "login", Outcome: AuditOutcome.Failed });
        Assert.Equal(log.OrderByDescending(e => e.At).Select(e => e.At), log.Select(e => e.At));
    }
}
