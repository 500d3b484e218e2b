using BackupManager.Tests.Api;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// Restore to a point in time in a real headless Chromium against the real app with its own WAL receiver and a real
/// base backup: the panel, the dialog (date and time in the clinic's zone), the engine's refusal of a time outside the
/// window, the job banner, and the database afterwards. axe-core audits the panel and the open dialog on the way.
/// </summary>
public sealed class PitrBrowserTests(ITestOutputHelper output)
{
    private const string Dialog = "[data-testid=pitr-dialog]";

    [Fact]
    public async Task An_administrator_restores_the_database_to_a_second_from_the_backups_page()
    {
        await using var app = await PitrWebApp.StartAsync(kestrel: true);
        var clock = app.Host.Factory.Services.GetRequiredService<ClinicClock>();
        await using var session = await BrowserSession.OpenAsync(BrowserSession.Viewport(1280, 900));
        var page = session.Page;
        var found = new List<AxeAudit.Violation>();

        await BrowserSession.SignInAsync(page, app.Host, "admin@clinic.test", app.AdminPassword);
        await BrowserSession.WaitReadyAsync(page);
        await page.WaitForSelectorAsync("[data-testid=pitr-window]:has-text('from')");
        Assert.Contains($"({clock.Zone})", await page.InnerTextAsync("[data-testid=pitr-window]"));
        found.AddRange(await AuditBothWidthsAsync(page, "pitr-panel"));

        var target = await WriteRowsAroundASecondAsync(app.Database);

        // A time before the base backup: the engine refuses in the dialog, no job starts and nothing changes.
        await OpenDialogAsync(page);
        // The window was read when the page loaded; the dialog shows it as it is now, past the noted second.
        var shownTo = await page.Locator("[data-testid=pitr-dialog-window] b").Nth(1).InnerTextAsync();
        Assert.True(string.CompareOrdinal(shownTo, clock.LocalSeconds(target)) >= 0,
            $"the window ends at {shownTo}, before {clock.LocalSeconds(target)}");
        found.AddRange(await AuditBothWidthsAsync(page, "pitr-dialog"));
        await EnterAsync(page, "2020-01-01", "12:00:05");
        await page.ClickAsync("[data-testid=pitr-confirm]");
        await page.WaitForSelectorAsync("[data-testid=pitr-refusal]");
        Assert.Contains("outside the window", await page.InnerTextAsync("[data-testid=pitr-refusal]"));
        // The engine speaks UTC; the entry in the clinic's zone says which UTC second it is.
        var utc = TimeZoneInfo.ConvertTimeToUtc(new DateTime(2020, 1, 1, 12, 0, 5), clock.TimeZone);
        Assert.Contains($"That is {utc:yyyy-MM-dd HH:mm:ss} UTC", await page.InnerTextAsync(Dialog));
        await BrowserSession.ShotAsync(page, "pitr-refused");
        // The focus stays in the dialog (on the date) for a keyboard user to correct the time.
        await page.WaitForFunctionAsync($"() => document.activeElement?.closest('{Dialog}') != null");
        Assert.True(await page.IsVisibleAsync(Dialog));
        Assert.Equal(0, await page.Locator("[data-testid=job-progress]").CountAsync());
        Assert.Equal(["1|before", "2|after"], await app.Database.RowsAsync("SELECT id, text FROM notes ORDER BY id"));
        Assert.Empty(await app.Host.Harness.Engine.ListAsync());
        await page.ClickAsync("[data-testid=pitr-cancel]");
        await page.WaitForSelectorAsync(Dialog, new PageWaitForSelectorOptions
        {
            State = WaitForSelectorState.Detached,
        });

        // The noted second, as the clinic's clock shows it: the database comes back with the first row only.
        await OpenDialogAsync(page);
        var local = clock.LocalSeconds(target);
        await EnterAsync(page, local[..10], local[11..]);
        await page.ClickAsync("[data-testid=pitr-scope-db]");
        Assert.Equal(local, (await page.InputValueAsync(Input("pitr-date"))) + " "
            + await page.InputValueAsync(Input("pitr-time")));
        await BrowserSession.ShotAsync(page, "pitr-dialog-filled");
        await page.ClickAsync("[data-testid=pitr-confirm]");
        await page.WaitForSelectorAsync("[data-testid=job-progress]");
        Assert.Contains("Restoring to", await page.InnerTextAsync("[data-testid=job-progress]"));
        var result = page.Locator("[data-testid=restore-result]");
        await result.WaitForAsync(new LocatorWaitForOptions { Timeout = 180_000 });
        await BrowserSession.ShotAsync(page, "pitr-restored");
        Assert.Contains("The restore finished: the database restored to", await result.InnerTextAsync());
        Assert.Equal(["1|before"], await app.Database.RowsAsync("SELECT id, text FROM notes ORDER BY id"));

        output.WriteLine(AxeAudit.Describe(found));
        var serious = found.Where(AxeAudit.IsSerious).ToList();
        Assert.True(serious.Count == 0, $"{serious.Count} serious or critical axe-core violation(s):\n"
            + AxeAudit.Describe(serious));
    }

    /// <summary>
    /// Writes row 1, returns a whole second after its commit (not :00, so the browser must keep the seconds), and
    /// writes row 2 once the database's clock has passed that second.
    /// </summary>
    private static async Task<DateTimeOffset> WriteRowsAroundASecondAsync(TestDatabase database)
    {
        await database.ExecuteAsync("CREATE TABLE notes (id int, text text); INSERT INTO notes VALUES (1, 'before')");
        var committed = await database.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        var target = new DateTimeOffset(committed.Ticks - committed.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero)
            .AddSeconds(1);
        if (target.Second == 0) target = target.AddSeconds(1);
        await PitrScenario.WaitForAsync(async () => await database.ScalarAsync<bool>(
            $"SELECT clock_timestamp() > '{target.AddMilliseconds(200):O}'::timestamptz"), "the target second to pass");
        await database.ExecuteAsync("INSERT INTO notes VALUES (2, 'after')");
        return target;
    }

    private static async Task OpenDialogAsync(IPage page)
    {
        await page.ClickAsync("[data-testid=pitr-restore]");
        await page.WaitForSelectorAsync(Dialog);
        // Keyboard users start inside the dialog, not on the page behind it.
        await page.WaitForFunctionAsync($"() => document.activeElement?.closest('{Dialog}') != null");
    }

    private static string Input(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    /// <summary>Fills the date and time as the inputs take them and types the confirmation they ask for.</summary>
    private static async Task EnterAsync(IPage page, string date, string time)
    {
        await page.Locator(Input("pitr-date")).First.FillAsync(date);
        await page.Locator(Input("pitr-time")).First.FillAsync(time);
        // The browser itself must accept a time to the second (a time input's default step is a minute).
        Assert.True(await page.Locator(Input("pitr-time")).First.EvaluateAsync<bool>("e => e.validity.valid"),
            "the time input refuses seconds");
        Assert.True(await page.IsDisabledAsync("[data-testid=pitr-confirm]"));
        await page.Locator(Input("pitr-confirm-input")).First.FillAsync($"{date} {time}");
        await page.WaitForSelectorAsync("[data-testid=pitr-confirm]:not([disabled])");
    }

    private static async Task<List<AxeAudit.Violation>> AuditBothWidthsAsync(IPage page, string state)
    {
        var found = new List<AxeAudit.Violation>();
        foreach (var (width, height) in new[] { (1280, 900), (400, 860) })
        {
            await page.SetViewportSizeAsync(width, height);
            found.AddRange(await AxeAudit.RunAsync(page, $"{state}-{width}"));
            await BrowserSession.ShotAsync(page, $"a11y-{state}-{width}", fullPage: false);
        }
        await page.SetViewportSizeAsync(1280, 900);
        return found;
    }
}
