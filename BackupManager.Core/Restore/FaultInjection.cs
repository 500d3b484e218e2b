namespace BackupManager.Core.Restore;

/// <summary>
/// Named points in the restore where the crash harness may hold a process still, so that its kill -9 lands in phases
/// that last only milliseconds (the swap). No effect unless <c>BACKUPMANAGER_TEST_PAUSE_AT=point:milliseconds</c> is
/// set in the environment; read once per process.
/// </summary>
public static class FaultInjection
{
    public const string Committing = "committing", DatabaseSwapped = "database-swapped", Committed = "committed",
        DrillChecking = "drill-checking";
    /// <summary>app:restore-backup --from, between the fetch and the restore (which one lease must cover).</summary>
    public const string Fetched = "fetched";

    private static readonly (string Point,
        int Milliseconds)? Pause = Parse(Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_PAUSE_AT"));

    public static void PauseAt(string point)
    {
        if (Pause is var (at, milliseconds) && at == point) Thread.Sleep(milliseconds);
    }

    private static (string, int)? Parse(string? value)
    {
        var parts = value?.Split(':');
        return parts is [var point, var ms] && int.TryParse(ms, out var milliseconds) ? (point, milliseconds) : null;
    }
}
