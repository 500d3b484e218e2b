using System.Globalization;

namespace BackupManager.Web.Commands;

/// <summary>Reads a --to-time value: ISO 8601 with an offset (or Z), or <c>YYYY-MM-DD HH:MM:SS</c> in the clinic's
/// time zone (Backup__TimeZone).</summary>
public static class PointInTimeInput
{
    private static readonly string[] LocalFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss"];

    public static DateTimeOffset Parse(string value, TimeZoneInfo zone)
    {
        var text = value.Trim();
        if (DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None,
            out var local))
        {
            if (zone.IsInvalidTime(local))
                throw new UsageException($"{text} does not exist in {zone.Id} (a clock change skips it).");
            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }
        if (text.Length >= 20 && (text.EndsWith('Z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind,
                out var exact))
            return exact;
        throw new UsageException($"--to-time '{text}' is not a time. Give ISO 8601 with an offset "
            + "(2026-12-06T14:31:00+01:00) or 'YYYY-MM-DD HH:MM:SS' in Backup__TimeZone.");
    }
}
