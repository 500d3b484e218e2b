using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace BackupManager.Tests.Cluster;

/// <summary>A singleton worker wired to leadership (the off-site copier) does nothing on an instance that does not
/// lead its role, and starts as soon as that instance takes the role over.</summary>
public sealed class LeaderOnlyWorkerTests
{
    [Fact]
    public async Task The_offsite_copier_of_a_non_leader_copies_nothing_until_it_takes_over()
    {
        using var keys = new TestFolder();
        var nas = keys.Sub("nas");
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Destinations["nas"] = TestDestinations.Folder(nas);
            o.Encryption.Recipients = [TestDestinations.Key(keys).Recipient];
        }, withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "chart.txt"), "tooth 36: crown");
        var backup = await h.CreateBackupAsync(BackupScope.FilesOnly);
        var copied = Path.Combine(nas, "backups", backup.Filename + ".json");

        using var leader = ClusterLeadershipTests.Leadership(ClusterTestDatabase.Options(h.Database, "host-a", 1));
        using var follower = ClusterLeadershipTests.Leadership(ClusterTestDatabase.Options(h.Database, "host-b", 1));
        await leader.StartAsync(CancellationToken.None);
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => leader.IsLeader(ClusterRole.OffsiteCopy),
            TimeSpan.FromSeconds(10)));
        await follower.StartAsync(CancellationToken.None);
        var offsite = h.Get<OffsiteService>();
        using var worker = new OffsiteCopyWorker(offsite, h.Get<BackupCommitted>(),
            Microsoft.Extensions.Options.Options.Create(new ScheduleOptions { OffsitePoll = TimeSpan.FromSeconds(1) }),
            TimeProvider.System, NullLogger<OffsiteCopyWorker>.Instance, follower);
        await worker.StartAsync(CancellationToken.None);

        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(File.Exists(copied));
        Assert.Null(offsite.GetStatus().Single().State.LastAttemptAt); // not even tried

        await leader.StopAsync(CancellationToken.None); // the leader goes: this instance takes the role
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => File.Exists(copied), TimeSpan.FromSeconds(30)));
        await worker.StopAsync(CancellationToken.None);
        await follower.StopAsync(CancellationToken.None);
    }
}
