namespace BackupManager.Tests.Infrastructure;

/// <summary>Backup names carry the second they were made in; tests that make two in a row wait for the next one.
/// </summary>
public static class WallClock
{
    /// <summary>Returns once the clock has entered a second later than the one it was called in, so a backup made
    /// next gets a later name than any made before the call.</summary>
    public static async Task NextSecondAsync()
    {
        var now = DateTime.UtcNow;
        var start = now.Ticks / TimeSpan.TicksPerSecond;
        while (DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond == start) await Task.Delay(10);
    }
}
