using System.Text;

namespace BackupManager.Core.Restore;

/// <summary>
/// Named points in the restore where the crash harness may hold a process still, so that its kill -9 lands in phases
/// that last only milliseconds (the swap). No effect unless <c>BACKUPMANAGER_TEST_PAUSE_AT=point:milliseconds</c> is
/// set in the environment; read once per process. With <c>BACKUPMANAGER_TEST_PAUSED_FILE=path</c> as well, the point's
/// name is written there as the pause begins, so a test waits for the pause itself rather than a guessed delay, and
/// deleting that file ends the pause.
/// </summary>
public static class FaultInjection
{
    public const string Committing = "committing", DatabaseSwapped = "database-swapped", Committed = "committed",
        DrillChecking = "drill-checking";
    /// <summary>app:restore-backup --from, between the fetch and the restore (which one lease must cover).</summary>
    public const string Fetched = "fetched";
    /// <summary>A point-in-time restore, once its temporary server has recovered and before the dump from it.</summary>
    public const string PointInTimeRecovered = "pitr-recovered";

    private static readonly (string Point,
        int Milliseconds)? Pause = Parse(Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_PAUSE_AT"));

    private static readonly string? PausedFile = Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_PAUSED_FILE");

    public static void PauseAt(string point)
    {
        if (Pause is not var (at, milliseconds) || at != point) return;
        if (string.IsNullOrEmpty(PausedFile))
        {
            Thread.Sleep(milliseconds);
            return;
        }
        IO.AtomicFile.WriteAllBytes(PausedFile, Encoding.UTF8.GetBytes(point));
        // The test may end the pause early by deleting the file: a long pause then costs nothing.
        var until = Environment.TickCount64 + milliseconds;
        while (Environment.TickCount64 < until && File.Exists(PausedFile)) Thread.Sleep(20);
    }

    private static (string, int)? Parse(string? value)
    {
        var parts = value?.Split(':');
        return parts is [var point, var ms] && int.TryParse(ms, out var milliseconds) ? (point, milliseconds) : null;
    }
}
