using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// The main flows in a real headless Chromium (Debian's /usr/bin/chromium; nothing is downloaded) against the real
/// app on a 127.0.0.1 port. Screenshots of the main states go to artifacts/screenshots.
/// </summary>
public sealed class BrowserFlowTests
{
    private static Task SignInAsync(IPage page, WebAppHost host, string email, string password) =>
        BrowserSession.SignInAsync(page, host, email, password);

    private static Task ShotAsync(IPage page, string name) => BrowserSession.ShotAsync(page, name);

    [Fact]
    public async Task An_administrator_signs_in_creates_downloads_restores_and_deletes_a_backup()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        await host.Harness.SeedAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync(new BrowserNewPageOptions
        {
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = session.Page;

        // Anonymous visitors are sent to the sign-in page.
        await page.GotoAsync(new Uri(host.BaseAddress, "backups").ToString());
        await page.WaitForURLAsync("**/Account/Login**");
        await ShotAsync(page, "01-login");

        await SignInAsync(page, host, "admin@clinic.test", password);
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("[data-testid=empty]");
        await ShotAsync(page, "02-empty");

        // Create: the new backup appears in the table.
        // Watched from the click on: the snackbar goes away after a few seconds.
        var snackbar = page.WaitForSelectorAsync("text=created.", new PageWaitForSelectorOptions { Timeout = 60_000 });
        await page.ClickAsync("[data-testid=create-full]");
        var row = page.Locator("[data-testid=row-filename]").First;
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        var filename = (await row.InnerTextAsync()).Trim();
        Assert.Matches("^backup-[0-9-]{19}\\.zip$", filename);
        await snackbar;
        await ShotAsync(page, "03-created");

        // Download: the browser gets the exact bytes on disk.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("a[data-testid=download]"));
        Assert.Equal(filename, download.SuggestedFilename);
        var saved = Path.Combine(host.Harness.Folder.Path, "downloaded.zip");
        await download.SaveAsAsync(saved);
        Assert.Equal(await File.ReadAllBytesAsync(host.Harness.PathOf(filename)), await File.ReadAllBytesAsync(saved));

        // Restore: after typing the filename, the database goes back to the backup.
        await host.Harness.Database.ExecuteAsync(
            "UPDATE patients SET name = 'changed in the browser test' WHERE id = 1");
        await page.ClickAsync("[data-testid=restore]");
        await page.WaitForSelectorAsync("[data-testid=restore-warning]");
        await ShotAsync(page, "04-restore-dialog");
        Assert.True(await page.IsDisabledAsync("[data-testid=restore-confirm]"));
        await page.Locator("input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input")
            .First.FillAsync(filename);
        await page.ClickAsync("[data-testid=restore-confirm]");
        await page.WaitForFunctionAsync(
            "() => document.querySelectorAll('[data-testid=row-filename]').length >= 2",
            null,
            new PageWaitForFunctionOptions { Timeout = 120_000 });
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal(
            "Patient 1", await host.Harness.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        await ShotAsync(page, "05-restored");

        // Delete: confirm, and the row disappears.
        var before = await page.Locator("[data-testid=row-filename]").CountAsync();
        await page.Locator("[data-testid=delete]").Last.ClickAsync();
        await page.ClickAsync("[data-testid=delete-confirm]");
        await page.WaitForFunctionAsync(
            $"() => document.querySelectorAll('[data-testid=row-filename]').length === {before - 1}");
        await ShotAsync(page, "06-deleted");
        Assert.Equal(before - 1, (await host.Harness.Engine.ListAsync()).Count);
        Assert.False(File.Exists(host.Harness.PathOf(filename)));

        // Upload: the downloaded archive comes back, streamed over HTTP and verified, marked as an upload.
        // MudBlazor's upload control: choosing the file checks its name and size, then sends it with a progress bar.
        await page.SetInputFilesAsync("input.bm-upload-input", saved);
        await page.WaitForSelectorAsync($"text=Uploaded and verified {filename}");
        Assert.Contains(
            await host.Harness.Engine.ListAsync(),
            b => b.Filename == filename && b.Trigger == Core.BackupTrigger.Upload);
        await ShotAsync(page, "06b-uploaded");

        // The audit page shows what happened.
        await page.ClickAsync("[data-testid=nav-audit]");
        await page.WaitForSelectorAsync("[data-testid=audit-table]");
        var actions = await page.Locator("[data-testid=audit-action]").AllInnerTextsAsync();
        Assert.Contains("create", actions);
        Assert.Contains("download", actions);
        Assert.Contains("restore", actions);
        Assert.Contains("delete", actions);
        Assert.Contains("upload", actions);
        await ShotAsync(page, "07-audit");
    }

    [Fact]
    public async Task A_user_without_the_permission_is_refused_and_sees_no_backup_menu()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        var password = await host.CreateUserAsync("reception@clinic.test", administrator: false);
        await using var session = await BrowserSession.OpenAsync();
        var page = session.Page;

        await SignInAsync(page, host, "reception@clinic.test", password);
        await page.WaitForSelectorAsync("[data-testid=not-allowed]");
        Assert.Contains("manage-backups", await page.InnerTextAsync("[data-testid=not-allowed]"));
        Assert.Equal(0, await page.Locator("[data-testid=nav-backups]").CountAsync());
        await ShotAsync(page, "08-not-allowed");

        var api = await page.APIRequest.GetAsync(
            new Uri(host.BaseAddress, "api/v1/backups/download/backup-2026-01-01-00-00-00.zip").ToString());
        Assert.Equal(403, api.Status);
    }

    [Fact]
    public async Task Wrong_passwords_slow_sign_in_down_instead_of_locking_the_account()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WebAppHost.StartAsync(
            kestrel: true, services: s => s.AddSingleton<TimeProvider>(clock));
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync();
        var page = session.Page;

        for (var i = 0; i < BackupManager.Web.Identity.SignInThrottle.FreeFailures; i++)
        {
            await SignInAsync(page, host, "admin@clinic.test", "wrong-password-" + i);
            Assert.Equal("Wrong e-mail or password.", (await page.InnerTextAsync("[data-testid=login-error]")).Trim());
        }
        // Even the right password waits out the delay the failures earned; nothing is locked.
        await SignInAsync(page, host, "admin@clinic.test", password);
        Assert.Contains(
            "Too many failed sign-ins. Wait 1 seconds", await page.InnerTextAsync("[data-testid=login-error]"));
        await ShotAsync(page, "09-throttled");

        clock.Advance(TimeSpan.FromSeconds(2));
        await SignInAsync(page, host, "admin@clinic.test", password);
        await page.WaitForURLAsync("**/backups");
        var log = await File.ReadAllTextAsync(
            Path.Combine(host.Harness.BackupDirectory, Core.Audit.AuditLog.RefusalsFileName));
        Assert.Contains("wrong e-mail or password", log);
        Assert.Contains("throttled for 1 s", log);
    }

    [Fact]
    public async Task A_permission_withdrawn_while_the_backups_page_is_open_refuses_the_next_click()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync();
        var page = session.Page;
        await SignInAsync(page, host, "admin@clinic.test", password);
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("[data-testid=empty]");

        await host.SetAdministratorAsync("admin@clinic.test", false); // app:revoke-admin, from another console
        await page.ClickAsync("[data-testid=create-full]");

        await page.WaitForURLAsync(url => !url.Contains("/backups", StringComparison.Ordinal));
        await ShotAsync(page, "10-permission-withdrawn");
        Assert.Empty(await host.Harness.Engine.ListAsync());
        Assert.Contains("/Account/", page.Url);
    }

    [Fact]
    public async Task A_permission_withdrawn_with_a_dialog_open_signs_the_circuit_out_and_closes_it_on_revalidation()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await host.Harness.SeedAsync();
        await host.Harness.CreateBackupAsync();
        await using var session = await BrowserSession.OpenAsync();
        var page = session.Page;
        await SignInAsync(page, host, "admin@clinic.test", password);
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.ClickAsync("[data-testid=restore]");
        await page.WaitForSelectorAsync("[data-testid=restore-warning]");

        // nobody clicks: the circuit's own revalidation must notice
        await host.SetAdministratorAsync("admin@clinic.test", false);

        await page.WaitForURLAsync("**/Account/Login**", new PageWaitForURLOptions { Timeout = 60_000 });
        Assert.Equal(0, await page.Locator("[data-testid=restore-warning]").CountAsync());
        await ShotAsync(page, "11-signed-out-after-revocation");
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(400, 860)]
    public async Task Backups_and_history_are_usable_at_desktop_and_phone_widths_and_a_drill_runs_from_the_history_page(
        int width, int height)
    {
        await using var host = await WebAppHost.StartAsync(
            kestrel: true, settings: s => s["Backup:DrillChecks:0"] = "SELECT count(*) > 0 FROM patients");
        await host.Harness.SeedAsync();
        await host.Harness.CreateBackupAsync();
        await host.Harness.CreateBackupAsync(
            BackupManager.Core.BackupScope.DatabaseOnly, BackupManager.Core.BackupTrigger.Daily);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync(
            new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = session.Page;
        await SignInAsync(page, host, "admin@clinic.test", password);
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("[data-testid=row-filename]");

        // Nothing makes the whole page scroll sideways.
        Assert.True(
            await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"),
            $"at {width} px the page is "
            + $"{await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth")} px wide");
        await ShotAsync(page, $"12-backups-{width}");
        if (width < 960)
        {
            // The app bar's links are in a drawer behind the menu button.
            Assert.False(await page.IsVisibleAsync("[data-testid=nav-history]"));
            await page.ClickAsync("[data-testid=nav-menu]");
            await page.ClickAsync("[data-testid=drawer-history]");
        }
        else await page.ClickAsync("[data-testid=nav-history]");
        await page.WaitForURLAsync("**/history");
        await page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("[data-testid=chart-size] svg");

        await page.ClickAsync("[data-testid=drill-now]");
        await page.WaitForSelectorAsync(
            "[data-testid=drills-table] [data-testid=drill-result]:has-text('passed')",
            new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.True(
            await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"));
        await ShotAsync(page, $"13-history-{width}");
        var drills = new BackupManager.Core.Drills.DrillHistory(host.Harness.BackupDirectory).All();
        Assert.True(Assert.Single(drills).Passed);
    }
}
