using System.Runtime.ExceptionServices;

namespace BackupManager.Core.IO;

/// <summary>Work run side by side on the two cores (the dump and the files), awaited as one.</summary>
internal static class TaskGroup
{
    /// <summary>
    /// Awaits every task. If one failed, rethrows the first real failure, not a cancellation it caused in the others
    /// (nor an InvalidOperationException of our own when every task was only cancelled: then the cancellation).
    /// </summary>
    public static async Task WhenAllAsync(params Task[] tasks)
    {
        try { await Task.WhenAll(tasks).ConfigureAwait(false); }
        catch when (tasks.Select(t => t.Exception?.InnerException)
            .FirstOrDefault(e => e is not null and not OperationCanceledException) is { } cause)
        {
            ExceptionDispatchInfo.Throw(cause);
        }
    }
}
