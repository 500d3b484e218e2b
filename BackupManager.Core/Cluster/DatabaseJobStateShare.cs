using System.Collections.Concurrent;
using BackupManager.Core.Jobs;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Cluster;

/// <summary>
/// Shares this instance's jobs through <see cref="ClusterJobTable"/> (several servers). <see cref="Offer"/> only keeps
/// the newest state per job; a background loop writes it: a change of status at once, progress at most once a second
/// per job. A failed write is logged as a warning and retried with the next pass; it never fails the job.
/// </summary>
public sealed class DatabaseJobStateShare : IJobStateShare, IAsyncDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Pass = TimeSpan.FromMilliseconds(200);
    private readonly ClusterJobTable _table;
    private readonly ILogger<DatabaseJobStateShare> _logger;
    private readonly ConcurrentDictionary<Guid, BackupJob> _pending = new();
    private readonly Dictionary<Guid, (DateTime At, BackupJobStatus Status)> _written = [];
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _failing;
    private int _disposed;

    public DatabaseJobStateShare(ClusterJobTable table, ILogger<DatabaseJobStateShare> logger)
    {
        _table = table;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    public void Offer(BackupJob job)
    {
        _pending[job.Id] = job;
        if (job.Status != BackupJobStatus.Running) _wake.Release();
    }

    public Task<BackupJob?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        _table.FindAsync(id, cancellationToken);

    public Task<IReadOnlyList<BackupJob>> OthersAsync(IReadOnlyCollection<Guid> watched,
        CancellationToken cancellationToken) => _table.OthersAsync(watched, cancellationToken);

    /// <summary>Writes every pending state now, progress included (tests; shutting down).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => WritePassAsync(true, cancellationToken);

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(Pass, _stop.Token).ConfigureAwait(false);
                await WritePassAsync(false, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e) { _logger.LogWarning(e, "The job state writer failed; it carries on"); }
        }
    }

    private async Task WritePassAsync(bool all, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = DateTime.UtcNow;
            foreach (var (id, job) in _pending)
            {
                var due = all || !_written.TryGetValue(id, out var last) || last.Status != job.Status
                    || now - last.At >= ProgressInterval;
                if (!due || !_pending.TryRemove(new(id, job))) continue;
                try
                {
                    await _table.WriteAsync(job, cancellationToken).ConfigureAwait(false);
                    if (job.IsFinished) _written.Remove(id);
                    else _written[id] = (now, job.Status);
                    if (_failing) _logger.LogInformation("Job states reach the cluster database again");
                    _failing = false;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    _pending.TryAdd(id, job); // a newer state, if one came meanwhile, wins
                    if (!_failing) _logger.LogWarning(e, "Job {Job}'s state could not be written to the cluster "
                        + "database; the job carries on and the write is retried", id);
                    _failing = true;
                    return;
                }
            }
        }
        finally { _writing.Release(); }
    }

    /// <summary>Stops the loop and writes what is pending; idempotent (the container may dispose it under both of
    /// its registrations).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        try { await WritePassAsync(true, CancellationToken.None).ConfigureAwait(false); }
        catch (Exception e) { _logger.LogWarning(e, "The last job states could not be written"); }
        _stop.Dispose();
    }
}
