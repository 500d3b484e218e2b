using BackupManager.Core;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>The backups page's restore and delete dialogs: what they say, what they need before confirming.</summary>
public sealed class BackupsPageDialogTests
{
    private const string First = "backup-2026-11-20-01-00-00.zip";
    private const string Second = "backup-2026-11-21-01-00-00.zip";

    [Fact]
    public async Task The_restore_dialog_says_what_is_replaced_and_needs_the_typed_filename()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        t.Engine.RestoreAsync(Arg.Any<RestoreBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>())
            .Returns(new TaskCompletionSource<RestoreResult>().Task);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.Find("[data-testid=restore]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("replaces the database and the files",
            dialogs.Find("[data-testid=restore-warning]").TextContent));
        Assert.Contains("safety backup", dialogs.Markup);
        Assert.True(dialogs.Find("[data-testid=restore-confirm]").HasAttribute("disabled"));

        dialogs.Find("input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input")
            .Input("backup-wrong.zip");
        Assert.True(dialogs.Find("[data-testid=restore-confirm]").HasAttribute("disabled"));
        dialogs.Find("input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input")
            .Input(First);
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=restore-confirm]")
            .HasAttribute("disabled")));
        dialogs.Find("[data-testid=restore-confirm]").Click();

        page.WaitForAssertion(() => Assert.Contains($"Restoring {First}", page.Find("[data-testid=job-progress]")
            .TextContent));
        // The banner shows the job as soon as it is queued; the engine is called from the job's own thread.
        Assert.True(await t.EngineReceivedAsync<RestoreBackupRequest>(nameof(IBackupService.RestoreAsync),
            r => r.Filename == First && r.Scope == BackupScope.Full), "the page's restore did not reach the engine");
    }

    [Fact]
    public async Task Cancelling_the_restore_dialog_restores_nothing()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.Find("[data-testid=restore]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=restore-cancel]").Click());

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=restore-confirm]")));
        await t.Engine.DidNotReceive().RestoreAsync(Arg.Any<RestoreBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Delete_asks_first_and_the_row_disappears_only_after_confirming()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>())
            .Returns([PageTestContext.Backup(Second), PageTestContext.Backup(First)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.FindAll("[data-testid=delete]")[1].Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=delete-cancel]").Click());
        await t.Engine.DidNotReceive().DeleteAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());

        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(Second)]);
        page.FindAll("[data-testid=delete]")[1].Click();
        dialogs.WaitForAssertion(() => Assert.Contains(First, dialogs.Markup));
        dialogs.Find("[data-testid=delete-confirm]").Click();

        page.WaitForAssertion(() => Assert.Equal([Second], page.FindAll("[data-testid=row-filename]")
            .Select(e => e.TextContent.Trim())));
        await t.Engine.Received(1).DeleteAsync(First, "admin@clinic.test", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_restore_dialog_opened_before_the_permission_was_withdrawn_cannot_be_confirmed_after()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();
        page.Find("[data-testid=restore]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find(
            "input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input").Input(First));
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=restore-confirm]")
            .HasAttribute("disabled")));

        t.Gate.Withdraw();
        dialogs.Find("[data-testid=restore-confirm]").Click();

        page.WaitForAssertion(() => Assert.Equal(1, t.Gate.Refused));
        Assert.Empty(page.FindAll("[data-testid=job-progress]"));
        await t.Engine.DidNotReceive().RestoreAsync(Arg.Any<RestoreBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_foreign_backup_has_a_badge_and_its_restore_needs_the_second_confirmation()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>())
            .Returns([PageTestContext.Backup(First) with { Foreign = true }]);
        t.Engine.RestoreAsync(Arg.Any<RestoreBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>())
            .Returns(new TaskCompletionSource<RestoreResult>().Task);
        var (dialogs, _, page) = t.Render<BackupsPage>();
        Assert.Equal("foreign", page.Find("[data-testid=foreign]").TextContent.Trim());

        page.Find("[data-testid=restore]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("not made by this installation",
            dialogs.Find("[data-testid=restore-foreign-warning]").TextContent));
        dialogs.Find("input[data-testid=restore-confirm-input], [data-testid=restore-confirm-input] input")
            .Input(First);
        // the filename alone is not enough
        Assert.True(dialogs.Find("[data-testid=restore-confirm]").HasAttribute("disabled"));
        dialogs.Find("input[data-testid=restore-foreign-confirm], [data-testid=restore-foreign-confirm] input")
            .Change(true);
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=restore-confirm]")
            .HasAttribute("disabled")));
        dialogs.Find("[data-testid=restore-confirm]").Click();

        page.WaitForAssertion(() => Assert.Contains($"Restoring {First}", page.Find("[data-testid=job-progress]")
            .TextContent));
        // The banner shows the job as soon as it is queued; the engine is called from the job's own thread.
        Assert.True(await t.EngineReceivedAsync<RestoreBackupRequest>(nameof(IBackupService.RestoreAsync),
            r => r.Filename == First && r.AllowForeign), "the page's restore did not reach the engine");
    }
}
