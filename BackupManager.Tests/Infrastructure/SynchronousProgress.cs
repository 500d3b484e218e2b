namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Runs <paramref name="onReport"/> on the reporting thread, before the engine goes on (Progress&lt;T&gt; posts it
/// later), so a test can act at an exact step of an operation.
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
