using BackupManager.Core;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>Issue 22 item 5 on the backups page: names for icon buttons, labels on phone cards, the Off-site column
/// as the console says it, and the kept count that leaves weekly and safety backups apart.</summary>
public sealed class BackupsPageLabelsTests
{
    private const string Daily = "backup-2026-11-20-01-00-00.zip";
    private const string Weekly = "backup-2026-11-22-02-00-00.zip";
    private const string Safety = "backup-2026-11-23-09-00-00.zip";

    [Fact]
    public async Task Icon_buttons_have_names_cards_have_labels_offsite_says_not_kept_and_weekly_and_safety_are_counted_apart()
    {
        await using var t = new PageTestContext(offsite: o =>
            o.Destinations["nas"] = new Core.Offsite.DestinationOptions { Type = "folder", Path = "/mnt/nas" });
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            PageTestContext.Backup(Daily, BackupTrigger.Daily),
            PageTestContext.Backup(Weekly, BackupTrigger.Weekly),
            PageTestContext.Backup(Safety, BackupTrigger.PreRestore),
        ]);
        t.Engine.GetStatusAsync(Arg.Any<CancellationToken>()).Returns(new BackupFolderStatus(3, 10, 0, 50L << 30, null));
        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=row-filename]").Count));
        Assert.Equal("1 / 10", page.Find("[data-testid=summary-count]").TextContent.Trim());
        Assert.Contains("1 weekly and 1 safety", page.Find("[data-testid=summary-apart]").TextContent);
        foreach (var button in page.FindAll("[data-testid=backups-table] button, [data-testid=backups-table] a.mud-icon-button"))
            Assert.False(string.IsNullOrWhiteSpace(button.GetAttribute("aria-label")), button.OuterHtml[..Math.Min(200, button.OuterHtml.Length)]);
        Assert.Equal($"Restore {Daily}…", page.FindAll("[data-testid=restore]").Select(b => b.GetAttribute("aria-label")).Single(l => l!.Contains(Daily)));
        foreach (var cell in page.FindAll("[data-testid=backups-table] tbody td"))
            Assert.False(string.IsNullOrEmpty(cell.GetAttribute("data-label")), cell.OuterHtml[..Math.Min(200, cell.OuterHtml.Length)]);
        Assert.Contains("nas: not-kept", page.Find($"[data-testid=row-copies] [data-testid=copy-nas-not-kept]").TextContent);
        Assert.Contains("bm-nowrap", page.FindAll("[data-testid=row-size]")[0].ClassName);
    }
}
