using BackupManager.Core;
using BackupManager.Core.Pitr;

namespace BackupManager.Web.Commands;

/// <summary>Reads a --to-time value with the engine's <see cref="PointInTimeParser"/>; a bad value is a usage error
/// (exit code 2), as every other bad argument.</summary>
public static class PointInTimeInput
{
    public static DateTimeOffset Parse(string value, TimeZoneInfo zone)
    {
        try { return PointInTimeParser.Parse(value, zone, "--to-time"); }
        catch (BackupException e) when (e.Kind == BackupErrorKind.InvalidInput)
        {
            throw new UsageException(e.Message);
        }
    }
}
