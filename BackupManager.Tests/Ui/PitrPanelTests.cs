using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Core.Pitr;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>The backups page's point-in-time panel and dialog: the window in the clinic's zone, the receiver and its
/// problem, the files' backup named, the typed confirmation, and the engine's refusal shown before anything starts.
/// The window is laid out on disk as the engine reads it (a base backup record and WAL segments); the restore itself
/// is proven against a real server in Api/PitrApiTests.</summary>
public sealed class PitrPanelTests
{
    private static readonly DateTimeOffset BaseEnded = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTime NewestWal = new(2026, 12, 5, 12, 30, 15, DateTimeKind.Utc);
    private const string FilesBefore = "backup-2026-12-05-09-00-00.zip";
    private const string FilesAfter = "backup-2026-12-05-12-00-00.zip";

    [Fact]
    public async Task The_panel_shows_the_window_in_the_clinics_zone_the_receiver_the_base_backup_and_the_problem()
    {
        await using var t = new PageTestContext(pitr: true);
        LayOutWindow(t.PitrLayout);
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);

        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Contains("from 2026-12-05 11:00:00 to 2026-12-05 13:30:15 (Europe/Paris)",
            Squashed(page.Find("[data-testid=pitr-window]").TextContent)));
        Assert.Contains("the server could not be asked", page.Find("[data-testid=pitr-receiver]").TextContent);
        Assert.Contains("20261205T100000Z", page.Find("[data-testid=pitr-base]").TextContent);
        Assert.Contains("No database is configured for point-in-time recovery",
            page.Find("[data-testid=pitr-problem]").TextContent);
        Assert.Contains(" s", page.Find("[data-testid=pitr-lag]").TextContent);
        Assert.False(page.Find("[data-testid=pitr-restore]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Without_point_in_time_recovery_there_is_no_panel()
    {
        await using var t = new PageTestContext();
        LayOutWindow(t.PitrLayout);
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);

        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=empty]")));
        Assert.Empty(page.FindAll("[data-testid=pitr-panel]"));
    }

    [Fact]
    public async Task The_dialog_names_the_files_backup_needs_the_typed_time_and_starts_the_job_through_the_runner()
    {
        await using var t = new PageTestContext(pitr: true);
        LayOutWindow(t.PitrLayout);
        t.Engine.ListAsync(Arg.Any<CancellationToken>())
            .Returns([PageTestContext.Backup(FilesAfter), PageTestContext.Backup(FilesBefore)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=pitr-restore]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("from 2026-12-05 11:00:00 to 2026-12-05 13:30:15",
            Squashed(dialogs.Find("[data-testid=pitr-dialog-window]").TextContent)));
        Assert.Equal("13:30:15", Input(dialogs, "pitr-time").GetAttribute("value"));
        Input(dialogs, "pitr-time").Input("12:00:00");
        dialogs.WaitForAssertion(() => Assert.Contains($"The files would come from {FilesBefore}",
            dialogs.Find("[data-testid=pitr-files-from]").TextContent));
        dialogs.Find("input[data-testid=pitr-scope-full]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("replaces the database and the files",
            dialogs.Find("[data-testid=pitr-warning]").TextContent));
        Assert.True(dialogs.Find("[data-testid=pitr-confirm]").HasAttribute("disabled"));
        Input(dialogs, "pitr-confirm-input").Input("2026-12-05 12:00:01");
        Assert.True(dialogs.Find("[data-testid=pitr-confirm]").HasAttribute("disabled"));
        Input(dialogs, "pitr-confirm-input").Input("2026-12-05 12:00:00");
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=pitr-confirm]")
            .HasAttribute("disabled")));
        dialogs.Find("[data-testid=pitr-confirm]").Click();

        var job = await WaitForJobAsync(t);
        Assert.Equal(BackupJobKind.PointInTimeRestore, job.Kind);
        Assert.Equal(BackupScope.Full, job.Scope);
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 11, 0, 0, TimeSpan.Zero), job.PointInTime!.Target);
        // No database in this context: the job fails at the recovery, and the page says why.
        var finished = await t.Jobs.WhenFinishedAsync(job.Id);
        Assert.Contains("No database is configured", finished.Error);
        page.WaitForAssertion(() => Assert.Contains("The restore to 2026-12-05 11:00:00 UTC failed: No database",
            page.Find("[data-testid=restore-result]").TextContent));
    }

    [Fact]
    public async Task A_time_outside_the_window_shows_the_engines_refusal_in_the_dialog_and_starts_nothing()
    {
        await using var t = new PageTestContext(pitr: true);
        LayOutWindow(t.PitrLayout);
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(FilesBefore)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=pitr-restore]").Click());
        dialogs.WaitForAssertion(() => Input(dialogs, "pitr-date").Input("2026-12-04"));
        Input(dialogs, "pitr-confirm-input").Input("2026-12-04 13:30:15");
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=pitr-confirm]")
            .HasAttribute("disabled")));
        dialogs.Find("[data-testid=pitr-confirm]").Click();

        dialogs.WaitForAssertion(() => Assert.Contains("is outside the window that can be restored",
            dialogs.Find("[data-testid=pitr-refusal]").TextContent));
        Assert.Empty(t.Jobs.Recent);
    }

    private static string Squashed(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    private static AngleSharp.Dom.IElement Input(IRenderedComponent<MudBlazor.MudDialogProvider> dialogs,
        string testId) => dialogs.Find($"input[data-testid={testId}], [data-testid={testId}] input");

    private static async Task<BackupJob> WaitForJobAsync(PageTestContext t)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (t.Jobs.Recent.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        return Assert.Single(t.Jobs.Recent);
    }

    /// <summary>A base backup that ended at <see cref="BaseEnded"/> and WAL from its start to
    /// <see cref="NewestWal"/>, as the engine lays them out.</summary>
    private static void LayOutWindow(PitrLayout layout)
    {
        layout.EnsureFolders();
        var folder = Path.Combine(layout.Base, "20261205T100000Z");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, PitrLayout.RecordFileName), JsonSerializer.SerializeToUtf8Bytes(
            new BaseBackupRecord("0/2000028", "0/2000100", 1, BaseEnded.AddMinutes(-1), BaseEnded, "15.0", 16L << 20),
            BackupJson.Options));
        foreach (var name in new[] { "000000010000000000000002", "000000010000000000000003" })
        {
            var path = Path.Combine(layout.Wal, name);
            File.WriteAllBytes(path, []);
            File.SetLastWriteTimeUtc(path, NewestWal);
        }
    }
}
