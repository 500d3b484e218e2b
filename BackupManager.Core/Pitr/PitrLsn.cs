using System.Globalization;

namespace BackupManager.Core.Pitr;

/// <summary>
/// WAL positions ("16/B374D848") as a recovery target: which base backup reaches one and whether the received WAL
/// covers it. A base backup reaches an LSN when it ended at or before it (recovery is consistent only after its end).
/// </summary>
public static class PitrLsn
{
    public static ulong Parse(string lsn)
    {
        var parts = lsn.Split('/');
        if (parts.Length != 2 || !ulong.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture,
                out var high) || !ulong.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture,
                out var low))
            throw new BackupException(BackupErrorKind.InvalidInput, $"'{lsn}' is not a WAL position (like 0/3000060).");
        return (high << 32) | low;
    }

    /// <summary>The newest base backup that ended at or before <paramref name="lsn"/> and from whose start the WAL
    /// has no gap up to it, when the WAL reaches it: received past its segment, or <paramref name="flushed"/> (what
    /// the receiver has written, as the server's slot says) at or after it. Null with the reason otherwise.</summary>
    public static (BaseBackupRecord? Base, string? Why) Choose(PitrWindow window, string lsn, ulong? flushed)
    {
        var target = Parse(lsn);
        var chosen = window.Bases.LastOrDefault(b => Parse(b.EndLsn) <= target);
        if (chosen is null)
            return (null, window.Bases.Count == 0 ? "there is no base backup yet"
                : $"the oldest kept base backup ({window.Bases[0].Name}) ended after it");
        var segment = WalSegment.NumberOf(lsn, chosen.WalSegmentBytes);
        var reached = window.Wal.Any(s => s.Timeline == chosen.Timeline && s.Number > segment)
            || flushed is { } written && written >= target;
        if (!reached) return (null, "the received WAL does not reach it yet");
        if (window.FindGap(chosen) is { } gap)
            return (null, $"the WAL after base backup {chosen.Name} has a gap (segment {gap} is missing)");
        return (chosen, null);
    }
}
