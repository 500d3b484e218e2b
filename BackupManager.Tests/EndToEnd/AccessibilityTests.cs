using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Xunit.Abstractions;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// axe-core over every page and state an administrator meets (sign-in, backups with destinations and a running job,
/// each dialog, history with data, tokens, audit) at desktop and phone widths: no serious or critical violation.
/// Every finding, moderate ones too, goes to the test output and artifacts/axe/.
/// </summary>
public sealed class AccessibilityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1280, 900)]
    [InlineData(400, 860)]
    public async Task No_page_or_dialog_has_a_serious_or_critical_axe_violation(int width, int height)
    {
        using var remote = new TestFolder();
        await using var host = await WebAppHost.StartAsync(kestrel: true, settings: s =>
        {
            s["Backup:Destinations:nas:Type"] = "folder";
            s["Backup:Destinations:nas:Path"] = remote.Sub("nas");
            s["Backup:DrillChecks:0"] = "SELECT count(*) > 0 FROM patients";
        });
        await host.Harness.SeedAsync();
        await host.Harness.CreateBackupAsync();
        await host.Harness.CreateBackupAsync(BackupScope.DatabaseOnly, BackupTrigger.Daily);
        var jobs = host.Factory.Services.GetRequiredService<BackupJobRunner>();
        await jobs.WhenFinishedAsync(jobs.StartDrill(null, new Actor("admin@clinic.test", null)).Id);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await host.CreateTokenAsync("admin@clinic.test");
        await using var session = await BrowserSession.OpenAsync(BrowserSession.Viewport(width, height));
        var page = session.Page;
        var found = new List<AxeAudit.Violation>();
        async Task AuditAsync(string state)
        {
            found.AddRange(await AxeAudit.RunAsync(page, state));
            await BrowserSession.ShotAsync(page, $"a11y-{state}-{width}", fullPage: false);
        }

        await page.GotoAsync(new Uri(host.BaseAddress, "Account/Login").ToString());
        await AuditAsync("sign-in");
        await BrowserSession.SignInAsync(page, host, "admin@clinic.test", password);
        await BrowserSession.WaitReadyAsync(page);
        await page.WaitForSelectorAsync("[data-testid=row-filename]");
        await page.WaitForSelectorAsync("[data-testid=destination-nas]");

        // A running job: pg_dump waits for the lock this transaction holds on a table of the clinic.
        await using (var blocker = new NpgsqlConnection(host.Harness.Database.ConnectionString))
        {
            await blocker.OpenAsync();
            await using var transaction = await blocker.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand(
                "LOCK TABLE patients IN ACCESS EXCLUSIVE MODE", blocker, transaction))
                await command.ExecuteNonQueryAsync();
            await page.ClickAsync("[data-testid=create-full]");
            await page.WaitForSelectorAsync("[data-testid=job-progress]");
            await AuditAsync("backups-running-job");
        }
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=row-filename]').length >= 3",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        // The "created" snackbar fades in and out over the buttons; axe measures contrast mid-fade. Audit once it has
        // gone.
        await page.WaitForSelectorAsync(
            ".mud-snackbar",
            new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached, Timeout = 30_000 });
        await AuditAsync("backups-created");

        await page.Locator("[data-testid=restore]").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=restore-warning]");
        await AuditAsync("restore-dialog");
        await page.ClickAsync("[data-testid=restore-cancel]");
        await page.Locator("[data-testid=delete]").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=delete-confirm]");
        await AuditAsync("delete-dialog");
        await page.ClickAsync("[data-testid=delete-cancel]");
        await page.ClickAsync("[data-testid=restore-from]");
        await page.WaitForSelectorAsync("[data-testid=restore-from-dialog]");
        await page.WaitForSelectorAsync("[data-testid=restore-from-dialog] .mud-progress-linear",
            new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
        await AuditAsync("restore-from-dialog");
        await page.ClickAsync("[data-testid=restore-from-cancel]");
        await page.WaitForSelectorAsync(
            "[data-testid=restore-from-dialog]",
            new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });

        if (width < 960)
        {
            await page.ClickAsync("[data-testid=nav-menu]");
            await page.WaitForSelectorAsync("[data-testid=drawer-history]");
            await AuditAsync("navigation-drawer");
            await page.ClickAsync("[data-testid=drawer-history]");
        }
        else await page.ClickAsync("[data-testid=nav-history]");
        await page.WaitForURLAsync("**/history");
        await BrowserSession.WaitReadyAsync(page);
        await page.WaitForSelectorAsync("[data-testid=chart-size] svg");
        await page.WaitForSelectorAsync("[data-testid=drills-table] [data-testid=drill-result]");
        await AuditAsync("history");

        await page.GotoAsync(new Uri(host.BaseAddress, "tokens").ToString());
        await page.WaitForSelectorAsync("[data-testid=tokens-table]");
        await BrowserSession.WaitReadyAsync(page);
        await page.FillAsync("[data-testid=token-name] input, input[data-testid=token-name]", "nightly-sync");
        await page.ClickAsync("[data-testid=token-create]");
        await page.WaitForSelectorAsync("[data-testid=token-created]");
        await AuditAsync("tokens");

        await page.GotoAsync(new Uri(host.BaseAddress, "audit").ToString());
        await page.WaitForSelectorAsync("[data-testid=audit-table]");
        await AuditAsync("audit");

        var report = AxeAudit.Describe(found);
        output.WriteLine(report);
        var folder = Path.Combine(BrowserSession.RepositoryRoot(), "artifacts", "axe");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"axe-{width}.txt"), report + "\n");
        var serious = found.Where(AxeAudit.IsSerious).ToList();
        Assert.True(serious.Count == 0, $"{serious.Count} serious or critical axe-core violation(s) at {width} px:\n"
            + AxeAudit.Describe(serious));
    }
}
