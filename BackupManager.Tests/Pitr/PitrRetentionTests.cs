using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Locking;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>Retention after a base backup: base backups older than the window go except the newest of them (the
/// window's start), WAL before that one's start goes, and nothing is deleted while another operation holds the lock
/// (a point-in-time restore copying WAL).</summary>
public sealed class PitrRetentionTests
{
    [Fact]
    public async Task Old_base_backups_and_their_wal_go_except_the_windows_anchor_and_never_under_the_lock()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var oldest = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(2);
        var anchor = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(1);
        Age(oldest, TimeSpan.FromDays(30));
        Age(anchor, TimeSpan.FromDays(20));
        var bytes = anchor.WalSegmentBytes;
        var anchorStart = WalSegment.NumberOf(anchor.StartLsn, bytes);
        Assert.Contains(WalSegment.List(pitr.Layout.Wal, bytes), s => s.Number < anchorStart);

        using (pitr.Harness.Get<BackupOperationLock>().Acquire("restore", "test@clinic"))
            await pitr.BaseBackupAsync();
        Assert.True(Directory.Exists(oldest.Folder), "retention deleted a base backup while the lock was held");
        Assert.Contains(WalSegment.List(pitr.Layout.Wal, bytes), s => s.Number < anchorStart);

        await pitr.BaseBackupAsync();
        Assert.False(Directory.Exists(oldest.Folder), "a base backup older than the window's anchor was kept");
        Assert.True(Directory.Exists(anchor.Folder), "the newest base backup before the window was deleted");
        Assert.DoesNotContain(WalSegment.List(pitr.Layout.Wal, bytes), s => s.Number < anchorStart);
        Assert.Contains(WalSegment.List(pitr.Layout.Wal, bytes), s => s.Number >= anchorStart);
        Assert.Equal(3, BaseBackupRecord.List(pitr.Layout.Base).Count);
    }

    /// <summary>Rewrites a base backup's record as if it had run <paramref name="ago"/>.</summary>
    private static void Age(BaseBackupRecord record, TimeSpan ago)
    {
        var file = Path.Combine(record.Folder, PitrLayout.RecordFileName);
        var aged = record with { StartedAt = record.StartedAt - ago, EndedAt = record.EndedAt - ago };
        File.WriteAllBytes(file, JsonSerializer.SerializeToUtf8Bytes(aged, BackupJson.Options));
    }
}
