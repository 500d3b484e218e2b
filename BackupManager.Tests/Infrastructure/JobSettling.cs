using BackupManager.Core.Jobs;

namespace BackupManager.Tests.Infrastructure;

/// <summary>Waits for a runner's unfinished jobs before a test deletes its folder: a job that ends on a pool thread
/// just after the test writes its audit record there, which re-creates the deleted folder.</summary>
public static class JobSettling
{
    /// <summary>Returns once every job of <paramref name="jobs"/> has finished, or after <paramref name="limit"/>
    /// (some tests leave a job hanging on purpose).</summary>
    public static async Task WaitAsync(BackupJobRunner jobs, TimeSpan limit)
    {
        var running = jobs.Recent.Where(j => !j.IsFinished).Select(j => jobs.WhenFinishedAsync(j.Id));
        try { await Task.WhenAll(running).WaitAsync(limit); }
        catch (TimeoutException) { }
    }
}
