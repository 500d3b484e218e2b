using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Keeps the base backups that ended within <c>Backup__Pitr__KeepDays</c> plus the newest one older than that (so the
/// whole window stays restorable), and the WAL from the oldest kept base backup's start segment on.
/// </summary>
public static class PitrRetention
{
    public static void Apply(PitrLayout layout, int keepDays, DateTimeOffset now, ILogger logger)
    {
        var records = BaseBackupRecord.List(layout.Base);
        if (records.Count == 0) return;
        var windowStart = now - TimeSpan.FromDays(keepDays);
        var anchor = records.LastOrDefault(r => r.EndedAt < windowStart);
        var kept = records.Where(r => r.EndedAt >= windowStart || r == anchor).ToList();
        foreach (var old in records.Except(kept))
        {
            BaseBackup.TryDeleteFolder(old.Folder);
            logger.LogInformation("PITR retention deleted base backup {Name} (older than {Days} days)", old.Name,
                keepDays);
        }
        var oldest = kept[0];
        var firstNeeded = WalSegment.NumberOf(oldest.StartLsn, oldest.WalSegmentBytes);
        foreach (var segment in WalSegment.List(layout.Wal, oldest.WalSegmentBytes))
        {
            if (segment.Timeline > oldest.Timeline
                || (segment.Timeline == oldest.Timeline && segment.Number >= firstNeeded)) continue;
            try { File.Delete(segment.Path); }
            catch (IOException e) { logger.LogWarning("PITR retention could not delete {Path}: {Error}",
                segment.Path, e.Message); }
        }
    }
}
