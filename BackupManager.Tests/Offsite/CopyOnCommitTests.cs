using BackupManager.Core;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Offsite;

/// <summary>The web app hands a backup it commits to the off-site copier at once; polling is only the fallback.
/// </summary>
public sealed class CopyOnCommitTests
{
    [Fact]
    public async Task A_backup_the_app_commits_is_copied_at_once_even_when_the_poll_is_a_day_away()
    {
        using var keys = new TestFolder();
        var (_, recipient) = TestDestinations.Key(keys);
        var nas = keys.Sub("nas");
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:Destinations:nas:Type"] = "folder";
            s["Backup:Destinations:nas:Path"] = nas;
            s["Backup:Encryption:Recipients:0"] = recipient;
            s["Backup:OffsitePoll"] = "1.00:00:00";
        });
        await host.Harness.SeedAsync();
        var offsite = host.Factory.Services.GetRequiredService<OffsiteService>();
        // The copier's first round (at start) has run and found nothing: from now on only a commit can wake it.
        await WaitUntilAsync(() => offsite.GetStatus().Single().State.LastSuccessAt is not null);

        var engine = host.Factory.Services.GetRequiredService<IBackupService>();
        var backup = await engine.CreateAsync(new CreateBackupRequest(BackupScope.FilesOnly, BackupTrigger.Manual,
            "test@clinic"));

        // The catalog lands at the destination a moment before the copier records it as held: wait for the record.
        await WaitUntilAsync(() => offsite.CopiesOf(backup.Filename).Single().State != CopyState.Pending);
        Assert.Equal(CopyState.Copied, Assert.Single(offsite.CopiesOf(backup.Filename)).State);
        Assert.True(File.Exists(Path.Combine(nas, "backups", backup.Filename + ".json")));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 60 s.");
            await Task.Delay(100);
        }
    }
}
