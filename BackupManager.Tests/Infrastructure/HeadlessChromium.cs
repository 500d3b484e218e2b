using Microsoft.Playwright;

namespace BackupManager.Tests.Infrastructure;

/// <summary>Debian's headless Chromium with one page; disposing closes both (never a downloaded browser).</summary>
public sealed class HeadlessChromium(IPlaywright playwright, IBrowser browser, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public static async Task<HeadlessChromium> OpenAsync(BrowserNewPageOptions? options = null)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // Quiet on a closed network: no update checks, sync or QUIC probes.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new HeadlessChromium(playwright, browser, await browser.NewPageAsync(options));
    }

    /// <summary>The checkout this test build came from (the folder holding BackupManager.sln).</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BackupManager.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("BackupManager.sln not found above the tests");
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
