using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>
/// Copy-now, fetch-then-restore and the drill are jobs of the runner: started from a page they show their phase, a
/// page rendered again after navigating away still shows them, and their end is said in a snackbar.
/// </summary>
public sealed class JobKindsPageTests
{
    private const string Fetched = "backup-2026-11-20-01-00-00.zip";

    private static PageTestContext WithNas(out string nas)
    {
        var destination = new DestinationOptions { Type = "folder" };
        var t = new PageTestContext(offsite: o => o.Destinations["nas"] = destination);
        destination.Path = nas = t.Folder.Sub("nas"); // read when the off-site service first opens it
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        return t;
    }

    [Fact]
    public async Task Copy_now_shows_its_phase_survives_navigation_and_ends_with_a_snackbar()
    {
        await using var t = WithNas(out _);
        var listing = new TaskCompletionSource();
        t.OpenStorage = (name, o) => new GatedDestination(new FolderDestination(name, o.Path!), listing.Task);
        var (_, _, page) = t.Render<BackupsPage>();

        page.WaitForElement("[data-testid=copy-now]").Click();
        page.WaitForAssertion(() => Assert.Contains("Reading what nas holds",
            page.Find("[data-testid=job-phase]").TextContent));
        Assert.Contains("Copying to nas", page.Find("[data-testid=job-progress]").TextContent);

        // Away and back: the page is a new component, the job is the same.
        await t.Context.DisposeComponentsAsync();
        var (_, snackbars, again) = t.Render<BackupsPage>();
        again.WaitForAssertion(() => Assert.Contains("Reading what nas holds",
            again.Find("[data-testid=job-phase]").TextContent));
        Assert.True(again.Find("[data-testid=copy-now]").HasAttribute("disabled"));

        listing.SetResult();
        snackbars.WaitForAssertion(() => Assert.Contains("nas is up to date.", snackbars.Markup));
        again.WaitForAssertion(() => Assert.Empty(again.FindAll("[data-testid=job-progress]")));
        Assert.Equal(Core.Jobs.BackupJobKind.Copy, Assert.Single(t.Jobs.Recent).Kind);
    }

    [Fact]
    public async Task Fetch_then_restore_shows_its_phase_survives_navigation_and_ends_with_a_snackbar()
    {
        await using var t = WithNas(out var nas);
        await PutUnencryptedCopyAsync(nas, Fetched);
        var indexReads = new TaskCompletionSource();
        t.OpenStorage = (name, o) => new GatedDestination(new FolderDestination(name, o.Path!), null, indexReads.Task);
        t.Engine.RestoreExactCopyAsync(Arg.Any<string>(), Arg.Any<RestoreBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>()).Returns(new RestoreResult(Fetched,
                "backup-2026-11-22-01-00-00.zip", true, [], []));
        var (dialogs, _, page) = t.Render<BackupsPage>();

        page.WaitForElement("[data-testid=restore-from]").Click();
        const string confirmInput =
            "input[data-testid=restore-from-confirm-input], [data-testid=restore-from-confirm-input] input";
        dialogs.WaitForAssertion(() => dialogs.Find(confirmInput));
        using (var identity = Core.Offsite.Age.AgeIdentity.Generate())
            dialogs.Find("textarea[data-testid=restore-from-identity], [data-testid=restore-from-identity] textarea")
                .Input(identity.ToSecretText());
        dialogs.Find(confirmInput).Input(Fetched);
        dialogs.Find("[data-testid=restore-from-confirm]").Click();

        page.WaitForAssertion(() => Assert.Contains($"Reading the index of {Fetched} from nas",
            page.Find("[data-testid=job-phase]").TextContent));
        Assert.Contains($"Fetching {Fetched} from nas and restoring it",
            page.Find("[data-testid=job-progress]").TextContent);

        await t.Context.DisposeComponentsAsync();
        var (_, snackbars, again) = t.Render<BackupsPage>();
        again.WaitForAssertion(() => Assert.Contains($"Reading the index of {Fetched}",
            again.Find("[data-testid=job-phase]").TextContent));

        indexReads.SetResult();
        snackbars.WaitForAssertion(() => Assert.Contains($"restored from {Fetched}", snackbars.Markup));
        // Restored straight from the rebuilt copy, as restore-backup --from does (no separate fetch and restore).
        await t.Engine.Received(1).RestoreExactCopyAsync(Arg.Any<string>(),
            Arg.Is<RestoreBackupRequest>(r => r.Filename == Fetched && r.RequestedBy == "admin@clinic.test"),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
        await t.Engine.DidNotReceive().RestoreAsync(Arg.Any<RestoreBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_drill_shows_its_phase_on_both_pages_after_navigation_and_ends_with_a_snackbar()
    {
        await using var t = new PageTestContext();
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var finish = new TaskCompletionSource<DrillResult>();
        t.Engine.DrillAsync(Arg.Any<DrillRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>()).Returns(call =>
            {
                call.Arg<IProgress<BackupProgress>?>()!.Report(new BackupProgress("drill", "Checking row counts"));
                return finish.Task;
            });
        var (_, _, history) = t.Render<HistoryPage>();

        history.WaitForElement("[data-testid=drill-now]").Click();
        history.WaitForAssertion(() => Assert.Contains("Checking row counts",
            history.Find("[data-testid=drill-phase]").TextContent));

        await t.Context.DisposeComponentsAsync();
        var (_, _, backups) = t.Render<BackupsPage>();
        backups.WaitForAssertion(() => Assert.Contains("Checking row counts",
            backups.Find("[data-testid=job-phase]").TextContent));
        Assert.Contains("Restore drill", backups.Find("[data-testid=job-progress]").TextContent);
        await t.Context.DisposeComponentsAsync();
        var (_, snackbars, again) = t.Render<HistoryPage>();
        again.WaitForAssertion(() => Assert.Contains("Checking row counts",
            again.Find("[data-testid=drill-phase]").TextContent));
        Assert.True(again.Find("[data-testid=drill-now]").HasAttribute("disabled"));

        finish.SetResult(new DrillResult { Filename = Fetched, StartedAt = DateTimeOffset.UtcNow,
            RequestedBy = "admin@clinic.test", RestoreDuration = TimeSpan.FromSeconds(38) });
        snackbars.WaitForAssertion(() => Assert.Contains($"The drill of {Fetched} passed", snackbars.Markup));
        again.WaitForAssertion(() => Assert.Empty(again.FindAll("[data-testid=drill-progress]")));
    }

    /// <summary>What a copy leaves at a folder destination for <paramref name="filename"/>, unencrypted: its catalog
    /// and its index (the bytes themselves are never read here: the engine's intake is substituted).</summary>
    private static async Task PutUnencryptedCopyAsync(string nas, string filename)
    {
        await using var storage = new FolderDestination("nas", nas);
        // The engine is a substitute, but the fetch itself is real: the recorded SHA-256 must match the bytes.
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[] { 1, 2, 3 }));
        var index = OffsiteFormat.EncodeIndex(new ArchiveIndex { Filename = filename, Size = 3, Sha256 = sha256,
            Segments = [new IndexSegment { Inline = [1, 2, 3], Length = 3 }] });
        await storage.PutAsync(OffsiteFormat.IndexKey(filename), new MemoryStream(index), index.Length, default);
        var catalog = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new BackupCatalog
        {
            Filename = filename, Size = 3, CreatedAt = Core.Storage.BackupFileName.TimeOf(filename),
            Trigger = BackupTrigger.Manual, Contains = [BackupContents.Database],
            Index = new StoredObject(OffsiteFormat.IndexKey(filename), index.Length, "00"),
        }, OffsiteFormat.Json);
        await storage.PutAsync(OffsiteFormat.CatalogKey(filename), new MemoryStream(catalog), catalog.Length, default);
    }
}
