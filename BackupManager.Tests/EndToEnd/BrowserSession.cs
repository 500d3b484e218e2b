using BackupManager.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// Debian's headless Chromium with one page; disposing closes both (never a downloaded browser). Shared by the browser
/// tests, with the sign-in and screenshot steps they all take.
/// </summary>
internal sealed class BrowserSession(IPlaywright playwright, IBrowser browser, IPage page) : IAsyncDisposable
{
    public static readonly string ScreenshotFolder = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");

    public IPage Page { get; } = page;

    public static async Task<BrowserSession> OpenAsync(BrowserNewPageOptions? options = null)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
        return new BrowserSession(playwright, browser, await browser.NewPageAsync(options));
    }

    public static BrowserNewPageOptions Viewport(int width, int height) =>
        new() { ViewportSize = new ViewportSize { Width = width, Height = height } };

    public static async Task SignInAsync(IPage page, WebAppHost host, string email, string password)
    {
        await page.GotoAsync(new Uri(host.BaseAddress, "Account/Login").ToString());
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=login-submit]");
    }

    /// <summary>Waits until the interactive circuit is live (the page marks it), so clicks reach the server.</summary>
    public static Task WaitReadyAsync(IPage page) =>
        page.WaitForSelectorAsync(
            "[data-testid=page-ready]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

    public static Task ShotAsync(IPage page, string name, bool fullPage = true)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        return page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(ScreenshotFolder, name + ".png"),
            FullPage = fullPage,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BackupManager.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? Path.GetTempPath();
    }
}
