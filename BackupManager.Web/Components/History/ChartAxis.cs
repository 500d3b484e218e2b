using System.Globalization;

namespace BackupManager.Web.Components.History;

/// <summary>
/// A y-axis scaled to its data: the unit that keeps the figures readable (B/KB/MB/GB, ms/s/min/h), a 1-2-5 step that
/// gives two to five ticks, and a top that sits on a tick just above the largest value. MudChart's tick spacing is a
/// whole number, so the unit is the largest in which the top reaches 2 (1.5 MB is drawn as 1536 KB).
/// </summary>
public sealed record ChartAxis(string Unit, double Divisor, int Step, double Max)
{
    private static readonly (string Unit, double Divisor)[] SizeUnits =
        [("B", 1), ("KB", 1024), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1L << 40)];

    private static readonly (string Unit, double Divisor)[] TimeUnits = [("ms", 0.001), ("s", 1), ("min", 60),
        ("h", 3600)];

    public static ChartAxis ForBytes(double largest) => For(largest, SizeUnits);

    public static ChartAxis ForSeconds(double largest) => For(largest, TimeUnits);

    /// <summary>A raw value (bytes or seconds) in this axis's unit.</summary>
    public double Scale(double raw) => raw / Divisor;

    /// <summary>A value in this axis's unit, as the axis and the figures table print it.</summary>
    public string Label(double value) => $"{value.ToString("0.##", CultureInfo.InvariantCulture)} {Unit}";

    /// <summary>A raw value with its unit, for text that sits beside the chart.</summary>
    public string Describe(double raw) => Label(Math.Round(Scale(raw), 2));

    private static ChartAxis For(double largest, (string Unit, double Divisor)[] units)
    {
        largest = double.IsFinite(largest) && largest > 0 ? largest : 0;
        var (unit, divisor) = units.LastOrDefault(u => largest / u.Divisor >= 2, units[0]);
        var top = largest / divisor;
        var step = Math.Max(1, NiceStep(top / 4));
        var max = Math.Max(step, Math.Ceiling(top / step - 1e-9) * step);
        return new ChartAxis(unit, divisor, (int)step, max);
    }

    private static double NiceStep(double rough)
    {
        if (rough <= 0) return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / magnitude;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
    }
}
