using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Pitr;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>
/// A destination keeps the local point-in-time window: base backups older than the oldest one kept here go (record
/// first, then its tar), and so does WAL before that base backup's start segment (on its timeline; older timelines
/// too).
/// </summary>
internal static class PitrOffsiteRetention
{
    public static async Task<IReadOnlyList<string>> ApplyAsync(IDestinationStorage storage, HashSet<string> keys,
        BaseBackupRecord oldestKept, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var bytes = oldestKept.WalSegmentBytes;
        var firstNeeded = WalSegment.NumberOf(oldestKept.StartLsn, bytes);
        var records = keys.Where(k => PitrOffsiteFormat.NameOfRecord(k) is { } n
            && string.CompareOrdinal(n, oldestKept.Name) < 0).ToList();
        // Records go before tars: a base backup without its record is not listed, so it is never half there.
        var tars = keys.Where(k => PitrOffsiteFormat.NameOfBase(k) is { } n
            && string.CompareOrdinal(n, oldestKept.Name) < 0).ToList();
        var wal = keys.Where(k => PitrOffsiteFormat.SegmentOf(k, bytes) is { } s
            && (s.Timeline < oldestKept.Timeline || (s.Timeline == oldestKept.Timeline && s.Number < firstNeeded)))
            .ToList();
        foreach (var key in records.Concat(tars).Concat(wal))
        {
            await storage.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            keys.Remove(key);
            removed.Add(key);
        }
        return removed;
    }
}
