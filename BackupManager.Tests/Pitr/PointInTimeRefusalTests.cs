using BackupManager.Core;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>Times that cannot be reached are refused before anything changes: outside the window, or with a gap in
/// the WAL.</summary>
public sealed class PointInTimeRefusalTests
{
    [Fact]
    public async Task A_time_outside_the_window_is_refused_naming_the_window_and_nothing_changes()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var baseBackup = await pitr.BaseBackupAsync();
        var before = Snapshot(pitr);

        foreach (var target in new[] { baseBackup.StartedAt.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1) })
        {
            var e = await Assert.ThrowsAsync<BackupException>(() => pitr.RestoreToAsync(target, BackupScope.Full));
            Assert.Equal(BackupErrorKind.InvalidInput, e.Kind);
            Assert.Contains("outside the window that can be restored (from ", e.Message);
            Assert.Contains("Nothing was changed", e.Message);
        }
        Assert.Equal(before, Snapshot(pitr));
        Assert.Equal(500, await pitr.Harness.Database.ScalarAsync<long>("SELECT count(*) FROM patients"));
    }

    [Fact]
    public async Task A_gap_in_the_wal_is_refused_naming_the_missing_segment_and_nothing_changes()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var baseBackup = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(4);
        var bytes = baseBackup.WalSegmentBytes;
        var inBase = WalSegment.List(Path.Combine(baseBackup.Folder, "pg_wal"), bytes).Max(s => s.Number);
        var received = WalSegment.List(pitr.Layout.Wal, bytes).Where(s => !s.Partial).ToList();
        var missing = received.First(s => s.Number > inBase && s.Number < received.Max(r => r.Number));
        File.Delete(missing.Path);
        await pitr.Harness.Database.ExecuteAsync("DELETE FROM appointments");
        var before = Snapshot(pitr);

        var e = await Assert.ThrowsAsync<BackupException>(
            () => pitr.RestoreToAsync(DateTimeOffset.UtcNow, BackupScope.Full));

        Assert.Equal(BackupErrorKind.InvalidInput, e.Kind);
        Assert.Contains($"segment {Path.GetFileName(missing.Path)} is missing", e.Message);
        Assert.Equal(before, Snapshot(pitr));
        Assert.Equal(0, await pitr.Harness.Database.ScalarAsync<long>("SELECT count(*) FROM appointments"));
    }

    [Fact]
    public async Task A_time_after_the_old_timeline_ends_is_refused_once_the_server_has_failed_over()
    {
        await using var pitr = await PitrScenario.StartAsync();
        var baseBackup = await pitr.BaseBackupAsync();
        await pitr.SwitchSegmentsAsync(1);
        await pitr.StopReceiverAsync();
        await Task.Delay(1500);
        // What pg_receivewal writes after a failover: segments named with the promoted server's next timeline.
        var last = WalSegment.List(pitr.Layout.Wal, baseBackup.WalSegmentBytes).Last(s => !s.Partial);
        var promoted = Path.Combine(pitr.Layout.Wal, $"{last.Timeline + 1:X8}{Path.GetFileName(last.Path)[8..]}");
        File.Copy(last.Path, promoted);
        File.SetLastWriteTimeUtc(promoted, DateTime.UtcNow);
        var oldEnd = WalSegment.List(pitr.Layout.Wal, baseBackup.WalSegmentBytes)
            .Where(s => s.Timeline == last.Timeline).Max(s => s.WrittenUtc);
        var before = Snapshot(pitr);

        var e = await Assert.ThrowsAsync<BackupException>(
            () => pitr.RestoreToAsync(DateTimeOffset.UtcNow.AddMilliseconds(-500), BackupScope.DatabaseOnly));

        Assert.Equal(BackupErrorKind.InvalidInput, e.Kind);
        Assert.Contains($"moved to timeline {last.Timeline + 1}", e.Message);
        Assert.Contains("app:base-backup", e.Message);
        Assert.Equal(before, Snapshot(pitr));
        var reachable = await pitr.Recovery.CheckAsync(new DateTimeOffset(oldEnd, TimeSpan.Zero), default);
        Assert.Equal(baseBackup.Name, reachable.Name);
    }

    /// <summary>Every file name under the backup folder and the live folders (not the lock and key files a refused
    /// request may create).</summary>
    private static List<string> Snapshot(PitrScenario pitr) =>
        new[] { pitr.Harness.BackupDirectory, pitr.Harness.Xrays, pitr.Harness.Documents }
            .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*", SearchOption.AllDirectories))
            .Where(p => !p.StartsWith(pitr.Layout.Wal, StringComparison.Ordinal)) // the receiver keeps writing
            .Where(p => Path.GetDirectoryName(p) != pitr.Harness.BackupDirectory
                || !Path.GetFileName(p).StartsWith('.'))
            .Order(StringComparer.Ordinal).ToList();
}
