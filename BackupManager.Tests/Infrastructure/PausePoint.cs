namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Holds an app process at one of <see cref="Core.Restore.FaultInjection"/>'s points and tells the test when it is
/// there: the process writes the point's name into a file as the pause begins, so nothing waits on a guessed delay.
/// </summary>
public sealed class PausePoint : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("bm-pause-").FullName;
    private readonly string _point;

    private PausePoint(string point) => _point = point;

    private string SignalFile => Path.Combine(_folder, "paused");

    /// <summary>Sets the two variables in <paramref name="environment"/> that hold a process at
    /// <paramref name="point"/> for <paramref name="milliseconds"/>.</summary>
    public static PausePoint In(IDictionary<string, string> environment, string point, int milliseconds)
    {
        var pause = new PausePoint(point);
        environment["BACKUPMANAGER_TEST_PAUSE_AT"] = $"{point}:{milliseconds}";
        environment["BACKUPMANAGER_TEST_PAUSED_FILE"] = pause.SignalFile;
        return pause;
    }

    /// <summary>Waits until the process has reached the point (and is held there); fails the test otherwise.</summary>
    public async Task ReachedAsync(System.Diagnostics.Process process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(SignalFile) && !process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(File.Exists(SignalFile), process.HasExited
            ? $"the process ended (exit {process.ExitCode}) before it reached {_point}"
            : $"the process did not reach {_point} within {timeout}");
        Assert.Equal(_point, await File.ReadAllTextAsync(SignalFile));
    }

    /// <summary>Ends the pause now (the process stops waiting once the file it wrote is gone).</summary>
    public void Release() => File.Delete(SignalFile);

    /// <summary>Removes both variables so later processes run straight through.</summary>
    public static void Clear(IDictionary<string, string> environment)
    {
        environment.Remove("BACKUPMANAGER_TEST_PAUSE_AT");
        environment.Remove("BACKUPMANAGER_TEST_PAUSED_FILE");
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* a temp folder */ }
    }
}
