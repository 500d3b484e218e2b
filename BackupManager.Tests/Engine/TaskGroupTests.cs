using BackupManager.Core;
using BackupManager.Core.IO;

namespace BackupManager.Tests.Engine;

/// <summary>Side-by-side work (a restore's dump and folders, a read-back's two readers) reports the failure that
/// happened, not what it caused in the other task.</summary>
public sealed class TaskGroupTests
{
    [Fact]
    public async Task The_real_failure_is_reported_not_the_cancellation_it_caused_in_the_other()
    {
        // The other task stopped with a cancellation it reports as a fault (synchronous work stopped by a token).
        var stopped = Task.FromException(new OperationCanceledException());
        var failed = Task.FromException(new BackupException(BackupErrorKind.Damaged, "the entry 'x' is damaged"));
        Assert.True(stopped.IsFaulted);
        var error = await Assert.ThrowsAsync<BackupException>(() => TaskGroup.WhenAllAsync(stopped, failed));
        Assert.Equal("the entry 'x' is damaged", error.Message);
    }

    [Fact]
    public async Task Work_that_was_only_cancelled_reports_the_cancellation()
    {
        using var stop = new CancellationTokenSource();
        var first = Task.Delay(Timeout.Infinite, stop.Token);
        var second = Task.Delay(Timeout.Infinite, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TaskGroup.WhenAllAsync(first, second));
    }
}
