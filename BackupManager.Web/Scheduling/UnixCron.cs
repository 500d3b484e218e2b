using Quartz;

namespace BackupManager.Web.Scheduling;

/// <summary>5-field Unix cron (minute hour day-of-month month day-of-week, 0 and 7 = Sunday) read through Quartz's own
/// parser.</summary>
public static class UnixCron
{
    public static string? Problem(string expression)
    {
        if (expression.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Length != 5) return "expected 5 fields: minute hour day-of-month month day-of-week";
        try { CronExpression.Parse(expression, CronFormat.Unix); return null; }
        catch (FormatException e) { return e.Message; }
    }

    /// <summary>The Quartz spelling of a valid Unix expression, e.g. "0 2 * * 0" gives "0 0 2 ? * SUN".</summary>
    public static string ToQuartz(string expression) => CronExpression.Parse(expression, CronFormat.Unix)
        .CronExpressionString;
}
