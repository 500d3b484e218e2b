using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>The history page: charts per day by trigger, the database/files share, drills with their restore
/// times.</summary>
public sealed class HistoryPageTests
{
    private static BackupInfo Backup(DateTimeOffset at, BackupTrigger trigger, long size, long database, long files,
        double seconds) =>
        new(Core.Storage.BackupFileName.For(at), size, at, trigger, [BackupContents.Database, BackupContents.Files],
            "admin", false, true, 0)
        {
            DatabaseBytes = database, FilesBytes = files, Duration = TimeSpan.FromSeconds(seconds),
        };

    [Fact]
    public async Task Charts_show_each_day_by_trigger_the_share_and_the_drills_with_their_restore_times()
    {
        await using var t = new PageTestContext();
        var now = DateTimeOffset.UtcNow;
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Backup(now.AddHours(-1), BackupTrigger.Manual, 30 << 20, 100 << 20, 300 << 20, 12),
            Backup(now.AddDays(-1), BackupTrigger.Daily, 20 << 20, 90 << 20, 290 << 20, 10),
            Backup(now.AddDays(-2), BackupTrigger.Daily, 20 << 20, 90 << 20, 290 << 20, 11),
            Backup(now.AddDays(-40), BackupTrigger.Daily, 20 << 20, 90 << 20, 290 << 20, 11), // outside the 30 days
        ]);
        var drills = new DrillHistory(t.Folder.Sub("backups"));
        drills.Add(new DrillResult { Filename = "backup-a.zip", StartedAt = now.AddDays(-3),
            RequestedBy = "scheduler:drill", RestoreDuration = TimeSpan.FromSeconds(252), TablesChecked = 12,
            RowsChecked = 34_567, FilesChecked = 89 });
        drills.Add(new DrillResult { Filename = "backup-b.zip", StartedAt = now.AddDays(-1),
            RequestedBy = "scheduler:drill",
            Failures = ["Check Backup__DrillChecks__0 (SELECT false) returned False instead of true."] });

        var (_, _, page) = t.Render<HistoryPage>();

        page.WaitForAssertion(() => Assert.Contains("3 backup(s), 2 drill(s)", page.Find("[data-testid=history-range]")
            .TextContent));
        Assert.Contains("Europe/Paris", page.Find("[data-testid=history-range]").TextContent);
        Assert.NotEmpty(page.FindAll("[data-testid=chart-size] svg"));
        Assert.NotEmpty(page.FindAll("[data-testid=chart-duration] svg"));
        Assert.NotEmpty(page.FindAll("[data-testid=chart-drills] svg"));
        Assert.Contains("database 100 MB, files 300 MB", page.Find("[data-testid=share-text]").TextContent);
        var rows = page.FindAll("[data-testid=drills-table] tbody tr");
        Assert.Equal(2, rows.Count);
        Assert.Contains("failed", rows[0].TextContent); // newest first
        Assert.Contains("returned False instead of true", rows[0].TextContent);
        Assert.Contains("passed", rows[1].TextContent);
        Assert.Contains("4 min 12 s", rows[1].TextContent);
        Assert.Contains("34,567 rows", rows[1].TextContent);
    }

    [Fact]
    public async Task Without_backups_or_drills_it_says_so_instead_of_drawing_empty_charts()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var (_, _, page) = t.Render<HistoryPage>();
        page.WaitForAssertion(() => Assert.Contains("No backups in this period", page.Find("[data-testid=chart-empty]")
            .TextContent));
        Assert.Contains("No restore drill in this period", page.Find("[data-testid=no-drills]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=chart-size] svg"));
    }

    [Fact]
    public async Task Run_a_restore_drill_runs_the_engines_drill_and_reports_the_measured_time()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        t.Engine.DrillAsync(Arg.Any<DrillRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>())
            .Returns(new DrillResult { Filename = "backup-2026-11-20-01-00-00.zip", StartedAt = DateTimeOffset.UtcNow,
                RequestedBy = "admin@clinic.test", RestoreDuration = TimeSpan.FromSeconds(38) });
        var (_, snackbars, page) = t.Render<HistoryPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=drill-now]"));

        page.Find("[data-testid=drill-now]").Click();

        snackbars.WaitForAssertion(() => Assert.Contains("passed: a full restore took 38 s", snackbars.Markup));
        await t.Engine.Received(1).DrillAsync(
            Arg.Is<DrillRequest>(r => r.Filename == null && r.RequestedBy == "admin@clinic.test"),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_withdrawn_permission_refuses_the_drill_when_clicked()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var (_, _, page) = t.Render<HistoryPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=drill-now]"));
        t.Gate.Withdraw();
        page.Find("[data-testid=drill-now]").Click();
        page.WaitForAssertion(() => Assert.Equal(1, t.Gate.Refused));
        await t.Engine.DidNotReceive().DrillAsync(Arg.Any<DrillRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>());
    }
}
