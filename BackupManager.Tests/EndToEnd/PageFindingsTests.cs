using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// What a new user saw on the pages (issue 22): history charts scaled to the data with units, the donut describing
/// the clinic's newest backup rather than a safety backup, a restore that says it finished; and the keyboard alone
/// reaching create and restore (issue 28).
/// </summary>
public sealed class PageFindingsTests
{
    [Theory]
    [InlineData(1280, 900)]
    [InlineData(400, 860)]
    public async Task History_charts_scale_to_the_data_with_units_and_the_donut_shows_the_newest_clinic_backup(
        int width, int height)
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        await host.Harness.SeedAsync();
        var clinic = await host.Harness.CreateBackupAsync();
        var safety = (await host.Harness.RestoreAsync(clinic.Filename)).SafetyBackup; // newer, a pre-restore backup
        Assert.NotNull(safety);
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync(BrowserSession.Viewport(width, height));
        var page = session.Page;
        await BrowserSession.SignInAsync(page, host, "admin@clinic.test", password);
        await BrowserSession.WaitReadyAsync(page);
        await page.GotoAsync(new Uri(host.BaseAddress, "history").ToString());
        await page.WaitForSelectorAsync("[data-testid=chart-size] svg");

        // The size axis: in KB (the test's backups are tens of KB), a handful of ticks, topped just above the data.
        var largest = (await host.Harness.Engine.ListAsync()).Sum(b => b.Size) / 1024.0; // all made today
        var ticks = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('[data-testid=chart-size] svg text')].map(t => t.textContent.trim())");
        var values = ticks.Where(t => t.EndsWith(" KB", StringComparison.Ordinal))
            .Select(t => double.Parse(t[..^3], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(values.Count is >= 3 and <= 7, $"y-axis labels: {string.Join(", ", ticks)}");
        Assert.InRange(values.Max(), largest, largest * 2.5);
        Assert.Contains("(KB)", await page.InnerTextAsync("[data-testid=chart-size] h2"));
        // Readable at both widths: the y labels do not overlap each other.
        var overlap = await page.EvaluateAsync<bool>("""
            () => {
              const boxes = [...document.querySelectorAll('[data-testid=chart-size] svg text')]
                .filter(t => t.textContent.endsWith(' KB')).map(t => t.getBoundingClientRect());
              return boxes.some((a, i) => boxes.some((b, j) => i !== j && a.top < b.bottom - 1 && b.top < a.bottom - 1
                && a.left < b.right && b.left < a.right));
            }
            """);
        Assert.False(overlap);

        // The donut: the clinic's own newest backup, not the newer safety backup.
        var share = await page.InnerTextAsync("[data-testid=share-text]");
        Assert.Contains(clinic.Filename, share);
        Assert.DoesNotContain(safety!, share);
        // The text alternative: the figures as a table.
        Assert.True(await page.Locator("[data-testid=chart-size] [data-testid=chart-figures] td").CountAsync() > 0);
        await BrowserSession.ShotAsync(page, $"14-history-scaled-{width}");
    }

    [Fact]
    public async Task A_finished_restore_says_what_was_restored_and_names_the_safety_backup()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        await host.Harness.SeedAsync();
        var backup = await host.Harness.CreateBackupAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync(BrowserSession.Viewport(400, 860));
        var page = session.Page;
        await BrowserSession.SignInAsync(page, host, "admin@clinic.test", password);
        await BrowserSession.WaitReadyAsync(page);
        await page.ClickAsync("[data-testid=restore]");
        await page.Locator("input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input").First
            .FillAsync(backup.Filename);
        await page.ClickAsync("[data-testid=restore-confirm]");

        var result = page.Locator("[data-testid=restore-result]");
        await result.WaitForAsync(new LocatorWaitForOptions { Timeout = 120_000 });
        var safety = (await host.Harness.Engine.ListAsync())
            .Single(b => b.Trigger == BackupTrigger.PreRestore).Filename;
        var text = await result.InnerTextAsync();
        Assert.Contains("The restore finished", text);
        Assert.Contains($"the database and the files restored from {backup.Filename}", text);
        Assert.Contains(safety, text);
        Assert.Contains(safety, await page.Locator("[data-testid=live-status]").TextContentAsync());
        await BrowserSession.ShotAsync(page, "15-restore-finished-400", fullPage: false);
    }

    [Fact]
    public async Task The_keyboard_alone_creates_a_backup_and_opens_the_restore_dialog_which_gives_focus_back()
    {
        await using var host = await WebAppHost.StartAsync(kestrel: true);
        await host.Harness.SeedAsync();
        var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
        await using var session = await BrowserSession.OpenAsync(BrowserSession.Viewport(1280, 900));
        var page = session.Page;
        await page.GotoAsync(new Uri(host.BaseAddress, "Account/Login").ToString());
        await TabToAsync(page, "#email");
        await page.Keyboard.TypeAsync("admin@clinic.test");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(password);
        await page.Keyboard.PressAsync("Enter");
        await BrowserSession.WaitReadyAsync(page);

        await TabToAsync(page, "[data-testid=create-full]");
        Assert.NotEqual(
            "none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync(
            "[data-testid=row-filename]", new PageWaitForSelectorOptions { Timeout = 60_000 });

        await TabToAsync(page, "[data-testid=restore]");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("[data-testid=restore-warning]");
        // MudBlazor moves the focus into the dialog just after it renders: wait for that, up to 10 s.
        try
        {
            await page.WaitForFunctionAsync("() => !!document.activeElement?.closest('.mud-dialog')", null,
                new PageWaitForFunctionOptions { Timeout = 10_000 });
        }
        catch (System.TimeoutException) { Assert.Fail("the dialog did not take the focus"); }
        await TabToAsync(page, "input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input");
        await page.Keyboard.PressAsync("Escape");
        await page.WaitForSelectorAsync(
            "[data-testid=restore-dialog]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
        await page.WaitForFunctionAsync("() => document.activeElement?.dataset?.testid === 'restore'");
    }

    /// <summary>Presses Tab until the focus is on <paramref name="selector"/> (fails after 80 presses).</summary>
    private static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < 80; i++)
        {
            if (await page.EvaluateAsync<bool>(
                    "s => !!document.activeElement && document.activeElement.matches(s)", selector))
                return;
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Fail($"Tab never reached {selector}");
    }
}
