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
