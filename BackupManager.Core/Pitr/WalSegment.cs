using System.Globalization;
using System.Text.RegularExpressions;

namespace BackupManager.Core.Pitr;

/// <summary>One WAL segment file in the WAL folder (<c>TTTTTTTTXXXXXXXXYYYYYYYY</c>, maybe <c>.partial</c>).</summary>
public sealed partial record WalSegment(string Path, uint Timeline, ulong Number, bool Partial, DateTime WrittenUtc)
{
    /// <summary>Parses a file name; null for anything else (history files, temp files).</summary>
    public static WalSegment? TryParse(string path, long segmentBytes)
    {
        var match = Name().Match(System.IO.Path.GetFileName(path));
        if (!match.Success) return null;
        var timeline = uint.Parse(match.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var log = ulong.Parse(match.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var seg = ulong.Parse(match.Groups[3].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new WalSegment(path, timeline, log * SegmentsPerLog(segmentBytes) + seg, match.Groups[4].Success,
            File.GetLastWriteTimeUtc(path));
    }

    /// <summary>The segment number that holds <paramref name="lsn"/> ("0/2000028").</summary>
    public static ulong NumberOf(string lsn, long segmentBytes)
    {
        var parts = lsn.Split('/');
        var value = (ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) << 32)
            | ulong.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return value / (ulong)segmentBytes;
    }

    /// <summary>The file name of segment <paramref name="number"/> on <paramref name="timeline"/>.</summary>
    public static string FileName(uint timeline, ulong number, long segmentBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{number / SegmentsPerLog(segmentBytes):X8}"
            + $"{number % SegmentsPerLog(segmentBytes):X8}");

    /// <summary>The segments in <paramref name="folder"/>, oldest first.</summary>
    public static List<WalSegment> List(string folder, long segmentBytes) =>
        !Directory.Exists(folder) ? [] : Directory.EnumerateFiles(folder)
            .Select(p => TryParse(p, segmentBytes)).OfType<WalSegment>()
            .OrderBy(s => s.Timeline).ThenBy(s => s.Number).ThenBy(s => s.Partial).ToList();

    private static ulong SegmentsPerLog(long segmentBytes) => 0x100000000UL / (ulong)segmentBytes;

    [GeneratedRegex("^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\\.partial)?$")]
    private static partial Regex Name();
}
