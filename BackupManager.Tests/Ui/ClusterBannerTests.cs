using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Tests.Cluster;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Cluster;
using BackupManager.Web.Components.Pages;
using Bunit;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>
/// Several servers: the backups page on instance B shows, in its banner, a job instance A runs (read from the cluster's
/// job table by the watcher), and clears it once A's job ends.
/// </summary>
public sealed class ClusterBannerTests
{
    [Fact]
    public async Task The_banner_shows_a_job_another_instance_runs_and_clears_when_it_ends()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var (first, second) = await ClusterNode.PairAsync(database.ConnectionString);
        await using var a = first;
        await using var b = second;
        await using var t = new PageTestContext(share: b.Share);
        t.Engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var (_, snackbars, page) = t.Render<BackupsPage>();
        Assert.Empty(page.FindAll("[data-testid=job-progress]"));

        var job = a.Jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual,
            new Actor("other-admin@clinic.test", null));
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await a.Share.FlushAsync();
        await ClusterJobWatcher.PollAsync(t.Jobs, b.Share, CancellationToken.None);

        page.WaitForAssertion(() =>
        {
            var banner = page.Find("[data-testid=job-progress]").TextContent;
            Assert.Contains("Creating a backup", banner);
            Assert.Contains("Dumping the database", banner);
            Assert.Contains("42", banner);
            Assert.Contains("other-admin@clinic.test", banner);
        });
        Assert.True(page.Find("[data-testid=create-full]").HasAttribute("disabled")); // busy on A: not here either

        a.FinishCreate("backup-2026-12-06_10-00-00.zip");
        await a.Jobs.WhenFinishedAsync(job.Id).WaitAsync(TimeSpan.FromSeconds(20));
        await a.Share.FlushAsync();
        await ClusterJobWatcher.PollAsync(t.Jobs, b.Share, CancellationToken.None);

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=job-progress]")));
        snackbars.WaitForAssertion(() => Assert.Contains("Backup backup-2026-12-06_10-00-00.zip created.",
            snackbars.Markup));
    }
}
