using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Pitr;

/// <summary>The segment being written goes off-site again once it changed and Backup__Pitr__OffsitePartialSeconds
/// passed, replacing its previous copy; once completed, the segment replaces the partial copy.</summary>
public sealed class OffsitePartialSegmentTests
{
    [Fact]
    public async Task The_partial_segment_is_resent_when_it_changed_after_the_interval_and_dropped_when_completed()
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var destination = TestDestinations.Folder(keys.Sub("offsite"));
        await using var pitr = await PitrScenario.StartAsync(o => o.OffsitePartialSeconds = 5, o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["usb"] = destination;
        });
        var based = await pitr.BaseBackupAsync();
        await pitr.Harness.Database.ExecuteAsync("CREATE TABLE early (id int); INSERT INTO early VALUES (1)");
        var copier = pitr.Harness.Get<PitrOffsiteCopier>();
        // Another test's pg_switch_wal on the shared cluster may complete the segment before the copy: write again.
        string? partial = null;
        await PitrScenario.WaitForAsync(async () =>
        {
            if (!Directory.EnumerateFiles(pitr.Layout.Wal, "*.partial").Any())
            {
                // A switch completed the segment: the receiver opens the next one only when WAL arrives.
                await pitr.Harness.Database.ExecuteAsync("INSERT INTO early VALUES (3)");
                return false;
            }
            var first = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));
            Assert.True(first.Succeeded, first.Error);
            partial = first.Sent.FirstOrDefault(s => s.EndsWith(".partial", StringComparison.Ordinal));
            if (partial is null) await pitr.Harness.Database.ExecuteAsync("INSERT INTO early VALUES (2)");
            return partial is not null;
        }, "the receiver to write a partial segment and the copier to send it");
        string Remote(string file) => Path.Combine(destination.Path!, "pitr", "wal", file + ".age");
        var sentPartial = partial!;
        Assert.True(File.Exists(Remote(sentPartial)));
        AssertStockToolsUnpack(destination, based.Name, identityFile, keys);
        var sentAt = File.GetLastWriteTimeUtc(Remote(sentPartial)); // the copier's timer starts after this write

        // Another test's pg_switch_wal on the shared cluster may complete it meanwhile: any partial segment counts.
        await pitr.Harness.Database.ExecuteAsync("CREATE TABLE late (id int); INSERT INTO late VALUES (1)");
        string? resent = null;
        await PitrScenario.WaitForAsync(async () =>
        {
            resent = (await copier.CopyAsync(now: false, CancellationToken.None)).Single().Sent
                .FirstOrDefault(s => s.EndsWith(".partial", StringComparison.Ordinal));
            if (resent is null) await pitr.Harness.Database.ExecuteAsync("INSERT INTO late VALUES (2)");
            return resent is not null;
        }, "the changed partial segment to be sent again");
        Assert.True(DateTime.UtcNow - sentAt >= TimeSpan.FromSeconds(4.5),
            "sent again before Backup__Pitr__OffsitePartialSeconds passed");
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(Remote(sentPartial))!, "*.partial.age"));

        await pitr.SwitchSegmentsAsync(2);
        var completed = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));
        Assert.True(completed.Succeeded, completed.Error);
        Assert.True(File.Exists(Remote(resent![..^".partial".Length])));
        Assert.False(File.Exists(Remote(resent)));
    }

    /// <summary>age and tar unpack the base backup, and pg_verifybackup finds it whole.</summary>
    private static void AssertStockToolsUnpack(DestinationOptions destination, string name, string identityFile,
        TestFolder keys)
    {
        var tarGz = Path.Combine(keys.Path, name + ".tar.gz");
        var encrypted = Path.Combine(destination.Path!, "pitr", "base", name + ".tar.gz.age");
        var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", tarGz, encrypted);
        Assert.True(exit == 0, output);
        var data = keys.Sub("unpacked");
        (exit, output) = StockReaders.Run("tar", "-xzf", tarGz, "-C", data);
        Assert.True(exit == 0, output);
        (exit, output) = StockReaders.Run("/usr/lib/postgresql/15/bin/pg_verifybackup", "-n", "-i",
            Core.Pitr.PitrLayout.RecordFileName, data);
        Assert.True(exit == 0, output);
    }
}
