using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Pitr;

/// <summary>A destination (s3rver) follows the local point-in-time window (Backup__Pitr__KeepDays): once retention
/// here dropped a base backup, its record, its tar and the WAL only it needed go there too; the window's anchor and
/// the WAL from its start stay.</summary>
public sealed class OffsitePitrRetentionTests
{
    [Fact]
    public async Task Base_backups_and_wal_older_than_the_local_window_go_at_the_destination_and_the_rest_stays()
    {
        using var keys = new TestFolder();
        var (_, recipient) = TestDestinations.Key(keys);
        var destination = TestDestinations.S3();
        await using var pitr = await PitrScenario.StartAsync(o => o.KeepDays = 14, o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["offsite"] = destination;
        });
        var oldest = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(2);
        var anchor = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(1);
        var copier = pitr.Harness.Get<PitrOffsiteCopier>();
        var first = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));
        Assert.True(first.Succeeded, first.Error);
        Assert.Empty(first.Removed);
        var bytes = anchor.WalSegmentBytes;
        var anchorStart = WalSegment.NumberOf(anchor.StartLsn, bytes);
        var before = await KeysAsync(destination);
        Assert.Contains(PitrOffsiteFormat.RecordKey(oldest.Name), before);
        Assert.Contains(before, k => PitrOffsiteFormat.SegmentOf(k, bytes) is { } s && s.Number < anchorStart);

        Age(oldest, TimeSpan.FromDays(30)); // outside the 14 days: goes here at the next base backup
        Age(anchor, TimeSpan.FromDays(20)); // the newest before the window: its anchor, kept
        var newest = await pitr.BaseBackupAsync();
        Assert.False(Directory.Exists(oldest.Folder));
        var second = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));

        Assert.True(second.Succeeded, second.Error);
        var after = await KeysAsync(destination);
        Assert.DoesNotContain(PitrOffsiteFormat.RecordKey(oldest.Name), after);
        Assert.DoesNotContain(PitrOffsiteFormat.BaseKey(oldest.Name, true), after);
        Assert.Contains(PitrOffsiteFormat.BaseKey(oldest.Name, true), second.Removed);
        Assert.DoesNotContain(after, k => PitrOffsiteFormat.SegmentOf(k, bytes) is { } s && s.Number < anchorStart);
        foreach (var kept in new[] { anchor, newest })
        {
            Assert.Contains(PitrOffsiteFormat.RecordKey(kept.Name), after);
            Assert.Contains(PitrOffsiteFormat.BaseKey(kept.Name, true), after);
        }
        Assert.Contains(PitrOffsiteFormat.WalKey(WalSegment.FileName(anchor.Timeline, anchorStart, bytes), true),
            after);
        // Every completed segment the window needs that was there stays there.
        Assert.All(before.Where(k => PitrOffsiteFormat.SegmentOf(k, bytes) is { Partial: false } s
            && s.Number >= anchorStart), k => Assert.Contains(k, after));
    }

    private static async Task<List<string>> KeysAsync(DestinationOptions destination)
    {
        await using var storage = OffsiteService.OpenStorage("offsite", destination);
        return [.. (await storage.ListAsync(PitrOffsiteFormat.Prefix, CancellationToken.None)).Select(o => o.Key)
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Rewrites a base backup's record as if it had run <paramref name="ago"/>.</summary>
    private static void Age(BaseBackupRecord record, TimeSpan ago)
    {
        var file = Path.Combine(record.Folder, PitrLayout.RecordFileName);
        var aged = record with { StartedAt = record.StartedAt - ago, EndedAt = record.EndedAt - ago };
        File.WriteAllBytes(file, JsonSerializer.SerializeToUtf8Bytes(aged, BackupJson.Options));
    }
}
