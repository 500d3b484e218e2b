using System.Globalization;

namespace BackupManager.Core.Pitr;

/// <summary>Reads a point in time as every front end accepts it: ISO 8601 with an offset (or Z), or
/// <c>YYYY-MM-DD HH:MM:SS</c> in the clinic's time zone (Backup__TimeZone).</summary>
public static class PointInTimeParser
{
    private static readonly string[] LocalFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss"];

    /// <summary>The time; an InvalidInput <see cref="BackupException"/> saying what to give otherwise.
    /// <paramref name="name"/> is how the caller's input is called (--to-time, to_time).</summary>
    public static DateTimeOffset Parse(string value, TimeZoneInfo zone, string name)
    {
        var text = value.Trim();
        if (DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None,
            out var local))
        {
            if (zone.IsInvalidTime(local))
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{text} does not exist in {zone.Id} (a clock change skips it).");
            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }
        if (text.Length >= 20 && (text.EndsWith('Z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind,
                out var exact))
            return exact;
        throw new BackupException(BackupErrorKind.InvalidInput, $"{name} '{text}' is not a time. Give ISO 8601 "
            + "with an offset (2026-12-06T14:31:00+01:00) or 'YYYY-MM-DD HH:MM:SS' in Backup__TimeZone.");
    }
}
