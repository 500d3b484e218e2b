using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Jobs;

public sealed partial class BackupJobRunner
{
    private const int KeepElsewhere = 100;
    private readonly IJobStateShare _share = share ?? NoJobStateShare.Instance;
    private readonly ConcurrentDictionary<Guid, BackupJob> _elsewhere = new();

    /// <summary>Other instances' jobs this instance has seen unfinished and still watches for their end.</summary>
    public IReadOnlyCollection<Guid> WatchedElsewhere => _elsewhere.Values.Where(j => !j.IsFinished)
        .Select(j => j.Id).ToList();

    private BackupJob? RunningElsewhere => _elsewhere.Values.Where(j => !j.IsFinished).OrderBy(j => j.CreatedAt)
        .FirstOrDefault();

    /// <summary>
    /// This instance's job, or another instance's as the shared store knows it (several servers; a job whose instance
    /// stopped comes back failed as <see cref="BackupErrorKind.Interrupted"/>); null when neither knows it.
    /// </summary>
    public async Task<BackupJob?> FindAsync(Guid id, CancellationToken cancellationToken = default)
    {
        if (_jobs.GetValueOrDefault(id) is { } local) return local;
        try
        {
            return await _share.FindAsync(id, cancellationToken).ConfigureAwait(false)
                ?? _elsewhere.GetValueOrDefault(id);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The shared job state could not be read for job {Job}", id);
            return _elsewhere.GetValueOrDefault(id);
        }
    }

    /// <summary>
    /// A state of another instance's job, as the cluster's watcher read it: pages subscribed here see it as they see
    /// this instance's jobs. A job of this instance's own is ignored (its state here is the newer one).
    /// </summary>
    public void Observe(BackupJob job)
    {
        if (_jobs.ContainsKey(job.Id)) return;
        if (_elsewhere.TryGetValue(job.Id, out var known) && known == job) return;
        _elsewhere[job.Id] = job;
        Notify(job);
        foreach (var old in _elsewhere.Values.Where(j => j.IsFinished).OrderByDescending(j => j.CreatedAt)
            .Skip(KeepElsewhere))
            _elsewhere.TryRemove(old.Id, out _);
    }

    private void Share(BackupJob job)
    {
        try { _share.Offer(job); }
        catch (Exception e) { logger.LogWarning(e, "Job {Job}'s state could not be shared", job.Id); }
    }
}
