using System.Globalization;

namespace BackupManager.Tests.Infrastructure;

/// <summary>The nice values of this test process's threads, as /proc/self/task shows them.</summary>
internal static class ThreadNices
{
    /// <summary>
    /// Thread folder → nice value of the live threads named <paramref name="comm"/>. A thread that ends while it is
    /// read is skipped: other tests' threads end at any moment.
    /// </summary>
    public static Dictionary<string, int> Named(string comm) => Directory.EnumerateDirectories("/proc/self/task")
        .Select(t => (Task: t, Comm: ReadOrNull(t, "comm"), Stat: ReadOrNull(t, "stat")))
        .Where(t => t.Comm?.Trim() == comm && t.Stat is not null)
        .ToDictionary(t => t.Task, t => NiceOfStat(t.Stat!));

    /// <summary>The nice value of a /proc/…/stat line: its state is field 3, the nice value field 19.</summary>
    public static int NiceOfStat(string stat) =>
        int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], CultureInfo.InvariantCulture);

    private static string? ReadOrNull(string task, string file)
    {
        try { return File.ReadAllText(Path.Combine(task, file)); }
        catch (IOException) { return null; }
    }
}
