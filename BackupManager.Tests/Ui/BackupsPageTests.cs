using BackupManager.Core;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace BackupManager.Tests.Ui;

public sealed class BackupsPageTests
{
    private const string First = "backup-2026-11-20-01-00-00.zip";
    private const string Second = "backup-2026-11-21-01-00-00.zip";

    [Fact]
    public async Task Shows_a_loading_state_until_the_list_arrives()
    {
        await using var t = new PageTestContext();
        var pending = new TaskCompletionSource<IReadOnlyList<BackupInfo>>();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns(pending.Task);

        var (_, _, page) = t.Render<BackupsPage>();
        Assert.NotNull(page.Find("[data-testid=loading]"));

        pending.SetResult([]);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty]")));
    }

    [Fact]
    public async Task Shows_the_empty_state_when_there_are_no_backups()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var (_, _, page) = t.Render<BackupsPage>();
        Assert.Contains("No backups yet", page.Find("[data-testid=empty]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=backups-table]"));
    }

    [Fact]
    public async Task Lists_backups_newest_first_with_human_sizes_triggers_contents_and_a_summary()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([
            PageTestContext.Backup(Second, BackupTrigger.Daily, 3_400_000_000, pinned: true),
            PageTestContext.Backup(First, BackupTrigger.PreRestore, 2048, contains: BackupContents.Database)]);
        t.Engine.GetStatusAsync(Arg.Any<CancellationToken>())
            .Returns(new BackupFolderStatus(2, 10, 3_400_002_048, 20L << 30, null));

        var (_, _, page) = t.Render<BackupsPage>();

        var names = page.FindAll("[data-testid=row-filename]").Select(e => e.TextContent.Trim()).ToList();
        Assert.Equal([Second, First], names);
        var table = page.Find("[data-testid=backups-table]").TextContent;
        Assert.Contains("3.2 GB", table);
        Assert.Contains("2 KB", table);
        Assert.Contains("daily", table);
        Assert.Contains("pre-restore", table);
        Assert.Contains("2026-11-21 02:00", table); // Europe/Paris, one hour ahead of UTC in November
        // The pre-restore safety backup is kept apart from MAX_BACKUPS, so only the daily one counts.
        Assert.Equal("1 / 10", page.Find("[data-testid=summary-count]").TextContent.Trim());
        Assert.Equal("20 GB", page.Find("[data-testid=summary-free]").TextContent.Trim());
        var download = page.FindAll("a[data-testid=download]")[0];
        Assert.Equal($"api/v1/backups/download/{Second}", download.GetAttribute("href"));
        Assert.NotNull(download.GetAttribute("download"));
    }

    [Fact]
    public async Task Shows_a_readable_error_when_the_list_cannot_be_read()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>())
            .ThrowsAsync(new BackupException(BackupErrorKind.Environment, "The backup folder is not readable."));
        var (_, _, page) = t.Render<BackupsPage>();
        Assert.Contains("The backup folder is not readable.", page.Find("[data-testid=load-error]").TextContent);
    }

    [Fact]
    public async Task A_running_create_shows_its_phase_and_progress_disables_actions_and_ends_with_a_snackbar()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var finish = new TaskCompletionSource<BackupInfo>();
        IProgress<BackupProgress>? reporter = null;
        t.Engine.CreateAsync(Arg.Any<CreateBackupRequest>(), Arg.Do<IProgress<BackupProgress>?>(p => reporter = p),
            Arg.Any<CancellationToken>()).Returns(finish.Task);

        var (_, snackbars, page) = t.Render<BackupsPage>();
        page.Find("[data-testid=create-db] ").Click();
        Assert.True(await Cluster.ClusterTestDatabase.EventuallyAsync(() => reporter is not null,
            TimeSpan.FromSeconds(20)), "the page's create did not reach the engine");
        reporter!.Report(new BackupProgress("create", "Dumping the database", 0.42));

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Dumping the database", page.Find("[data-testid=job-progress]").TextContent);
            Assert.Contains("42", page.Find("[data-testid=job-progress]").TextContent);
        });
        Assert.True(page.Find("[data-testid=create-full]").HasAttribute("disabled"));
        Assert.True(page.FindAll("[data-testid=restore]")[0].HasAttribute("disabled"));
        await t.Engine.Received(1).CreateAsync(
            Arg.Is<CreateBackupRequest>(r => r.Scope == BackupScope.DatabaseOnly
            && r.RequestedBy == "admin@clinic.test"), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>());

        t.Engine.ListAsync(Arg.Any<CancellationToken>())
            .Returns([PageTestContext.Backup(Second), PageTestContext.Backup(First)]);
        finish.SetResult(PageTestContext.Backup(Second));

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=job-progress]")));
        snackbars.WaitForAssertion(() => Assert.Contains($"Backup {Second} created.", snackbars.Markup));
        Assert.Equal(2, page.FindAll("[data-testid=row-filename]").Count);
        Assert.False(page.Find("[data-testid=create-full]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task A_job_started_elsewhere_is_visible_when_the_page_opens()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var finish = new TaskCompletionSource<BackupInfo>();
        t.Engine.CreateAsync(Arg.Any<CreateBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>()).Returns(finish.Task);
        t.Jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual,
            new Core.Jobs.Actor("other-admin@clinic.test", "10.0.0.1"));

        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Contains("other-admin@clinic.test", page.Find("[data-testid=job-progress]")
            .TextContent));
        finish.SetResult(PageTestContext.Backup(Second));
    }

    [Fact]
    public async Task A_refused_create_shows_the_reason_in_a_snackbar()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        using var held = await Task.Run(() =>
            t.Context.Services.GetService(typeof(
            Core.Locking.BackupOperationLock)) is Core.Locking.BackupOperationLock l
            ? l.Acquire("restore", "console:root") : null);

        var (_, snackbars, page) = t.Render<BackupsPage>();
        page.Find("[data-testid=create-full]").Click();

        snackbars.WaitForAssertion(() => Assert.Contains("Another backup operation is running", snackbars.Markup));
        await t.Engine.DidNotReceive().CreateAsync(Arg.Any<CreateBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Once_the_permission_is_withdrawn_the_next_create_delete_pin_and_upload_are_refused_when_clicked()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var (dialogs, _, page) = t.Render<BackupsPage>();

        t.Gate.Withdraw(); // revoked while the page is open
        page.Find("[data-testid=create-full]").Click();
        page.FindAll("[data-testid=pin]")[0].Click();
        page.FindAll("[data-testid=delete]")[0].Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=delete-confirm]").Click());

        page.WaitForAssertion(() => Assert.Equal(3, t.Gate.Refused));
        await t.Engine.DidNotReceive().CreateAsync(Arg.Any<CreateBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
        await t.Engine.DidNotReceive().DeleteAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
        await t.Engine.DidNotReceive().SetPinnedAsync(Arg.Any<string>(), Arg.Any<bool>(), Arg.Any<string>(),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Destinations_show_their_state_and_each_backup_where_it_was_copied_and_the_encrypted_download()
    {
        var recipient = Core.Offsite.Age.AgeIdentity.Generate().Recipient.Text;
        await using var t = new PageTestContext(offsite: o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["nas"] = new Core.Offsite.DestinationOptions { Type = "folder", Path = "/mnt/nas" };
            o.Destinations["cloud"] = new Core.Offsite.DestinationOptions { Type = "s3", Bucket = "clinic",
                Region = "eu-west-1" };
        });
        var state = new Core.Offsite.OffsiteStateFile(t.Folder.Sub("backups"));
        state.Update("nas", s => s with { LastSuccessAt = DateTimeOffset.UtcNow.AddMinutes(-5), Held = [First] });
        state.Update("cloud", s =>
            s with { LastError = "cloud: the S3 service at s3://clinic/ refused the credentials (InvalidAccessKeyId).",
            ConsecutiveFailures = 4 });
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForAssertion(() => Assert.Contains("refused the credentials",
            page.Find("[data-testid=destination-cloud] [data-testid=destination-error]").TextContent));
        Assert.Contains("Holds 1 backup(s)", page.Find("[data-testid=destination-nas] [data-testid=destination-held]")
            .TextContent);
        Assert.Single(page.FindAll("[data-testid=copy-nas-copied]"));
        Assert.Empty(page.FindAll("[data-testid=copy-cloud-copied]"));
        var encrypted = page.Find("[data-testid=download-encrypted]");
        Assert.Equal($"api/v1/backups/download/{First}?encrypted=true", encrypted.GetAttribute("href"));
        Assert.Equal(First + ".age", encrypted.GetAttribute("download"));
    }

    [Fact]
    public async Task Without_destinations_or_recipients_the_page_shows_no_off_site_column_or_encrypted_download()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([PageTestContext.Backup(First)]);
        var (_, _, page) = t.Render<BackupsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=row-filename]")));
        Assert.Empty(page.FindAll("[data-testid=destinations]"));
        Assert.Empty(page.FindAll("[data-testid=row-copies]"));
        Assert.Empty(page.FindAll("[data-testid=download-encrypted]"));
    }

    [Fact]
    public async Task The_list_filters_by_trigger_and_by_content_and_shows_the_last_drill_with_its_restore_time()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            PageTestContext.Backup(Second, BackupTrigger.Daily),
            PageTestContext.Backup(First, BackupTrigger.Manual, contains: BackupContents.Database),
        ]);
        new Core.Drills.DrillHistory(t.Folder.Sub("backups")).Add(new Core.Drills.DrillResult
            { Filename = Second, StartedAt = DateTimeOffset.UtcNow.AddDays(-2), RequestedBy = "scheduler:drill",
                RestoreDuration = TimeSpan.FromSeconds(252) });
        var (_, _, page) = t.Render<BackupsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=row-filename]").Count));
        Assert.Equal("4 min 12 s", page.Find("[data-testid=last-drill-time]").TextContent);
        Assert.Contains("Created (Europe/Paris)", page.Find("[data-testid=backups-table] thead").TextContent);

        await page.FindComponents<MudBlazor.MudSelect<string>>()[0]
            .InvokeAsync(() => page.FindComponents<MudBlazor.MudSelect<string>>()[0]
            .Instance.ValueChanged.InvokeAsync("manual"));
        page.WaitForAssertion(() => Assert.Equal([First], page.FindAll("[data-testid=row-filename]")
            .Select(r => r.TextContent.Trim())));
        await page.FindComponents<MudBlazor.MudSelect<string>>()[0]
            .InvokeAsync(() => page.FindComponents<MudBlazor.MudSelect<string>>()[0]
            .Instance.ValueChanged.InvokeAsync(""));
        await page.FindComponents<MudBlazor.MudSelect<string>>()[1]
            .InvokeAsync(() => page.FindComponents<MudBlazor.MudSelect<string>>()[1]
            .Instance.ValueChanged.InvokeAsync("both"));
        page.WaitForAssertion(() => Assert.Equal([Second], page.FindAll("[data-testid=row-filename]")
            .Select(r => r.TextContent.Trim())));
    }

    [Fact]
    public async Task The_upload_control_refuses_a_file_that_is_not_a_zip_or_is_too_large_before_sending_anything()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var (_, snackbars, page) = t.Render<BackupsPage>();
        var input = page.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>();

        input.UploadFiles(InputFileContent.CreateFromText("not a backup", "notes.txt"));
        snackbars.WaitForAssertion(() => Assert.Contains("notes.txt is not a backup archive", snackbars.Markup));
        Assert.DoesNotContain(t.Context.JSInterop.Invocations, i => i.Identifier == "backupManager.uploadWithProgress");
        Assert.Empty(page.FindAll("[data-testid=upload-progress]"));
    }

    [Fact]
    public async Task A_manual_create_is_low_priority_unless_as_fast_as_possible_is_switched_on()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        t.Engine.CreateAsync(Arg.Any<CreateBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>())
            .Returns(PageTestContext.Backup(First));
        var (_, _, page) = t.Render<BackupsPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=create-full]"));

        page.Find("[data-testid=create-full]").Click();
        // The job calls the engine on a pool thread, perhaps after the page's last render: poll, not render-driven.
        Assert.True(await Created(t, BackupScope.Full), "the page's create did not reach the engine");
        _ = t.Engine.Received(1).CreateAsync(
            Arg.Is<CreateBackupRequest>(r => r.Scope == BackupScope.Full && r.Priority == BackupPriority.Low),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
        // The button can be enabled before the page has heard of the job, so wait for the runner itself.
        Assert.True(await Cluster.ClusterTestDatabase.EventuallyAsync(() => t.Jobs.Current is null,
            TimeSpan.FromSeconds(20)), "the first create did not finish");
        var fast = page.FindComponent<MudBlazor.MudSwitch<bool>>();
        await fast.InvokeAsync(() => fast.Instance.ValueChanged.InvokeAsync(true));
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=create-db]").HasAttribute("disabled")));
        page.Find("[data-testid=create-db]").Click();

        Assert.True(await Created(t, BackupScope.DatabaseOnly), "the page's second create did not reach the engine");
        _ = t.Engine.Received(1).CreateAsync(
            Arg.Is<CreateBackupRequest>(r => r.Scope == BackupScope.DatabaseOnly
            && r.Priority == BackupPriority.Normal), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>());
        Assert.Equal(2, t.Engine.ReceivedCalls()
            .Count(c => c.GetMethodInfo().Name == nameof(IBackupService.CreateAsync)));
    }

    private static Task<bool> Created(PageTestContext t, BackupScope scope) =>
        t.EngineReceivedAsync<CreateBackupRequest>(nameof(IBackupService.CreateAsync), r => r.Scope == scope);
}
