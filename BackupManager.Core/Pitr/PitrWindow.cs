using System.Globalization;

namespace BackupManager.Core.Pitr;

/// <summary>
/// The times a restore can reach: from the end of the oldest base backup to the newest WAL received (now, while the
/// receiver streams). <see cref="Choose"/> picks the base backup for a time and checks the WAL from its start to the
/// newest segment has no gap, before anything is changed.
/// </summary>
public sealed class PitrWindow
{
    private PitrWindow(IReadOnlyList<BaseBackupRecord> bases, List<WalSegment> wal, DateTimeOffset? from,
        DateTimeOffset? to)
    {
        Bases = bases;
        Wal = wal;
        From = from;
        To = to;
    }

    public IReadOnlyList<BaseBackupRecord> Bases { get; }
    /// <summary>Segments of the WAL folder, oldest first.</summary>
    public IReadOnlyList<WalSegment> Wal { get; }
    public DateTimeOffset? From { get; }
    public DateTimeOffset? To { get; }

    /// <summary>Reads the folders; <paramref name="streaming"/>: the slot has a receiver right now, so WAL up to
    /// <paramref name="now"/> is on our disk.</summary>
    public static PitrWindow Read(PitrLayout layout, bool streaming, DateTimeOffset now)
    {
        var bases = BaseBackupRecord.List(layout.Base);
        var segmentBytes = bases.Count > 0 ? bases[^1].WalSegmentBytes : 16L << 20;
        var wal = WalSegment.List(layout.Wal, segmentBytes);
        if (bases.Count == 0) return new PitrWindow(bases, wal, null, null);
        DateTimeOffset newestWal = wal.Count > 0 ? new DateTimeOffset(wal.Max(s => s.WrittenUtc)) : bases[^1].EndedAt;
        var to = streaming ? now : newestWal > bases[^1].EndedAt ? newestWal : bases[^1].EndedAt;
        return new PitrWindow(bases, wal, bases[0].EndedAt, to);
    }

    public string Describe() => From is { } from && To is { } to
        ? $"from {Format(from)} to {Format(to)}"
        : "empty (no base backup yet)";

    /// <summary>The newest base backup that ended at or before <paramref name="target"/>, after checking the window
    /// and the WAL's continuity; throws an InvalidInput <see cref="BackupException"/> that says what to do.</summary>
    public BaseBackupRecord Choose(DateTimeOffset target)
    {
        if (From is null || To is null)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "There is no base backup yet, so no point in time can be restored. Take one with app:base-backup "
                + "(with Backup__Pitr__Enabled=true so WAL is received), then restore to a time after it. Nothing "
                + "was changed.");
        if (target < From || target > To)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"{Format(target)} is outside the window that can be restored ({Describe()}). Choose a time inside "
                + "it (app:pitr-status shows the window). Nothing was changed.");
        var chosen = Bases.Last(b => b.EndedAt <= target);
        var gap = FindGap(chosen);
        if (gap is not null)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"The WAL after base backup {chosen.Name} has a gap: segment {gap} is missing from the WAL folder, so "
                + $"{Format(target)} cannot be reached safely. Nothing was changed. Check that the receiver runs "
                + "(app:pitr-status), take a new base backup (app:base-backup) and restore to a time after it, or "
                + "restore a regular backup.");
        CheckTimeline(chosen, target);
        return chosen;
    }

    /// <summary>After a failover the server writes a new timeline: WAL of the old one ends there, and recovery from
    /// a base backup of the old one would stop at that end, short of <paramref name="target"/>.</summary>
    private void CheckTimeline(BaseBackupRecord chosen, DateTimeOffset target)
    {
        var newer = Wal.Where(s => s.Timeline > chosen.Timeline).Select(s => s.Timeline).DefaultIfEmpty().Max();
        if (newer == 0) return;
        var ends = new DateTimeOffset(Wal.Where(s => s.Timeline == chosen.Timeline).Select(s => s.WrittenUtc)
            .DefaultIfEmpty(chosen.EndedAt.UtcDateTime).Max(), TimeSpan.Zero);
        if (target <= ends) return;
        throw new BackupException(BackupErrorKind.InvalidInput,
            $"The server moved to timeline {newer} (a failover or a promoted standby) after base backup "
            + $"{chosen.Name}, whose timeline {chosen.Timeline} ends at {Format(ends)}, so {Format(target)} cannot be "
            + "reached from it. "
            + $"Choose a time up to {Format(ends)}, or take a base backup on the new timeline now (app:base-backup) "
            + "and restore to times after it. Nothing was changed.");
    }

    /// <summary>The first missing segment's name between <paramref name="chosen"/>'s start and the newest segment,
    /// counting the segments inside the base backup's own pg_wal; null when continuous.</summary>
    public string? FindGap(BaseBackupRecord chosen)
    {
        var bytes = chosen.WalSegmentBytes;
        var start = WalSegment.NumberOf(chosen.StartLsn, bytes);
        var present = Wal.Concat(WalSegment.List(Path.Combine(chosen.Folder, "pg_wal"), bytes))
            .Where(s => s.Timeline == chosen.Timeline && s.Number >= start)
            .Select(s => s.Number).ToHashSet();
        if (present.Count == 0) return WalSegment.FileName(chosen.Timeline, start, bytes);
        for (var n = start; n <= present.Max(); n++)
            if (!present.Contains(n)) return WalSegment.FileName(chosen.Timeline, n, bytes);
        return null;
    }

    private static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
