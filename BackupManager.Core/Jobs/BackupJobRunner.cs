using System.Collections.Concurrent;
using BackupManager.Core.Audit;
using BackupManager.Core.Locking;
using BackupManager.Core.Offsite;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Jobs;

/// <summary>
/// Runs the long operations in the background so a page, an API call or a schedule can start one and watch it:
/// creates, restores, off-site copies, fetch-then-restore and drills. Contract: a <c>Start…</c> method checks its
/// input and, for the kinds that need it (all but a copy, which serialises per destination on its own), takes the
/// operation lock before it returns, so a caller learns at once whether the job started (a
/// <see cref="BackupErrorKind.Busy"/> exception otherwise); the job then owns the lease until it finishes and hands it
/// to every engine call it makes (the lock is taken once per job). Every state change is published to subscribers;
/// the last 100 jobs stay queryable. Each job's start and outcome go to the audit log.
/// </summary>
public sealed partial class BackupJobRunner(IBackupService engine, OffsiteService offsite,
    BackupOperationLock operationLock, AuditLog audit, TimeProvider time, ILogger<BackupJobRunner> logger,
    Pitr.PointInTimeRecovery? pointInTime = null, IJobStateShare? share = null)
{
    private const int KeepFinished = 100;
    private readonly ConcurrentDictionary<Guid, BackupJob> _jobs = new();
    private readonly Lock _subscribersLock = new();
    private ImmutableSubscribers _subscribers = new([]);

    /// <summary>A job's work: returns the job with its results (an <see cref="BackupJob.Error"/> marks it failed).
    /// </summary>
    private delegate Task<BackupJob> JobWork(BackupJob job, BackupOperationLock.Lease? lease,
        IProgress<BackupProgress> progress, CancellationToken cancellationToken);

    /// <summary>The job currently running, if any (for pages that open while it runs): this instance's first, then
    /// one another instance runs (several servers).</summary>
    public BackupJob? Current => _jobs.Values.Where(j => !j.IsFinished).OrderBy(j => j.CreatedAt).FirstOrDefault()
        ?? RunningElsewhere;

    /// <summary>A job of this instance, or one of another instance's seen lately (<see cref="FindAsync"/> asks the
    /// shared store).</summary>
    public BackupJob? Find(Guid id) => _jobs.GetValueOrDefault(id) ?? _elsewhere.GetValueOrDefault(id);

    public IReadOnlyList<BackupJob> Recent => _jobs.Values.OrderByDescending(j => j.CreatedAt).ToList();

    public BackupJob StartCreate(BackupScope scope, BackupTrigger trigger, Actor actor,
        BackupPriority priority = BackupPriority.Normal) =>
        Start(NewJob(BackupJobKind.Create, scope, actor), "create", "create", actor,
            async (job, lease, progress, token) =>
        {
            var created = await engine.CreateAsync(new CreateBackupRequest(scope, trigger, actor.Name, priority,
                lease), progress, token).ConfigureAwait(false);
            return job with { Filename = created.Filename };
        });

    /// <summary>Starts a restore; <paramref name="allowForeign"/> is the caller's explicit confirmation for an archive
    /// this installation did not make.</summary>
    public BackupJob StartRestore(string filename, BackupScope scope, Actor actor, bool allowForeign = false)
    {
        // a bad name is refused before a job exists, and so is an unconfirmed foreign archive
        engine.GetArchivePath(filename);
        if (!allowForeign
            && engine.ListAsync().GetAwaiter().GetResult().FirstOrDefault(b =>
            b.Filename == filename) is { Foreign: true })
            throw Archive.ArchiveSigner.RefusedAsForeign(filename);
        return Start(NewJob(BackupJobKind.Restore, scope, actor) with { Filename = filename }, "restore", "restore",
            actor, (job, lease, progress, token) => RestoreAsync(job, allowForeign, actor, lease, progress, token));
    }

    /// <summary>
    /// Runs a create for a schedule: waits up to <paramref name="waitForLock"/> for a running operation to finish
    /// (never a second dump in parallel), then runs it as a visible job and returns its final state. Throws Busy when
    /// the lock did not come free in time.
    /// </summary>
    public Task<BackupJob> RunCreateAsync(BackupScope scope, BackupTrigger trigger, Actor actor,
        TimeSpan waitForLock, CancellationToken cancellationToken,
        BackupPriority priority = BackupPriority.Normal) =>
        RunWhenFreeAsync(NewJob(BackupJobKind.Create, scope, actor), "create", "create", actor, waitForLock,
            async (running, lease, progress, token) =>
            {
                var created = await engine.CreateAsync(new CreateBackupRequest(scope, trigger, actor.Name, priority,
                    lease), progress, token).ConfigureAwait(false);
                return running with { Filename = created.Filename };
            }, cancellationToken);

    /// <summary>Waits up to <paramref name="waitForLock"/> for the operation lock, then runs <paramref name="job"/>
    /// under it and returns its final state; Busy when the lock did not come free in time.</summary>
    private async Task<BackupJob> RunWhenFreeAsync(BackupJob job, string lockName, string action, Actor actor,
        TimeSpan waitForLock, JobWork work, CancellationToken cancellationToken)
    {
        using var lease = await operationLock.WaitAsync(lockName, actor.Name, waitForLock,
            cancellationToken).ConfigureAwait(false);
        Publish(job);
        return await RunAsync(job, lease, action, actor, work).ConfigureAwait(false);
    }

    /// <summary>Subscribes to every job change; dispose the result to stop. Handlers run on the job's thread.</summary>
    public IDisposable Subscribe(Action<BackupJob> onChanged)
    {
        lock (_subscribersLock) _subscribers = new([.. _subscribers.Handlers, onChanged]);
        return new Subscription(this, onChanged);
    }

    /// <summary>The job's final state, once it has finished (at once for a finished one).</summary>
    public async Task<BackupJob> WhenFinishedAsync(Guid id, CancellationToken cancellationToken = default)
    {
        var finished = new TaskCompletionSource<BackupJob>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Subscribe(job => { if (job.Id == id && job.IsFinished) finished.TrySetResult(job); });
        // Subscribed first, then looked: a job that finished in between is not missed.
        if (Find(id) is not { } known) throw new BackupException(BackupErrorKind.NotFound, $"There is no job {id}.");
        if (known.IsFinished) return known;
        return await finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private BackupJob NewJob(BackupJobKind kind, BackupScope scope, Actor actor) =>
        new(Guid.NewGuid(), kind, BackupJobStatus.Queued, actor.Name, time.GetUtcNow(), scope);

    private async Task<BackupJob> RestoreAsync(BackupJob job, bool allowForeign, Actor actor,
        BackupOperationLock.Lease? lease, IProgress<BackupProgress> progress, CancellationToken token)
    {
        var result = await engine.RestoreAsync(new RestoreBackupRequest(job.Filename!, job.Scope, actor.Name,
            allowForeign, lease), progress, token).ConfigureAwait(false);
        return Restored(job, result);
    }

    private static BackupJob Restored(BackupJob job, RestoreResult result) =>
        job with { Filename = result.Filename, SafetyBackup = result.SafetyBackup,
            Warning = result.Warnings.Count == 0 ? null : string.Join(" ", result.Warnings) };

    /// <summary>Starts <paramref name="job"/>: under the operation lock named <paramref name="lockName"/> (taken
    /// here, before it returns, and handed to the job), or without it when null; audited as
    /// <paramref name="action"/>.</summary>
    private BackupJob Start(BackupJob job, string? lockName, string action, Actor actor, JobWork work)
    {
        var lease = lockName is null ? null : operationLock.TryAcquire(lockName, actor.Name);
        if (lockName is not null && lease is null)
        {
            audit.Record(actor.Name, actor.Address, action, AuditTarget(job), AuditOutcome.Refused,
                "another backup operation is running");
            throw operationLock.BusyError();
        }
        Publish(job);
        _ = Task.Run(async () =>
        {
            using (lease) await RunAsync(job, lease, action, actor, work).ConfigureAwait(false);
        });
        return job;
    }

    private async Task<BackupJob> RunAsync(BackupJob job, BackupOperationLock.Lease? lease, string action, Actor actor,
        JobWork work)
    {
        job = job with { Status = BackupJobStatus.Running };
        Publish(job);
        audit.Record(actor.Name, actor.Address, action, AuditTarget(job), AuditOutcome.Started, job.Scope.ToString());
        var progress = new JobProgress(this, () => job);
        try
        {
            var done = await work(job, lease, progress, CancellationToken.None).ConfigureAwait(false);
            var failed = done.Error is not null;
            job = done with { Status = failed ? BackupJobStatus.Failed : BackupJobStatus.Succeeded,
                FinishedAt = time.GetUtcNow(), Progress = progress.Last };
            audit.Record(actor.Name, actor.Address, action, AuditTarget(job),
                failed ? AuditOutcome.Failed : AuditOutcome.Succeeded, failed ? job.Error : AuditDetail(job));
        }
        catch (Exception e)
        {
            var error = e as BackupException;
            if (error is null) logger.LogError(e, "Backup job {Job} ({Kind}) failed unexpectedly", job.Id, job.Kind);
            job = job with
            {
                Status = BackupJobStatus.Failed,
                Error = error?.Message
                    ?? $"The {action} failed unexpectedly ({e.GetType().Name}); see the server log.",
                ErrorKind = error?.Kind ?? BackupErrorKind.Environment,
                FinishedAt = time.GetUtcNow(),
            };
            audit.Record(actor.Name, actor.Address, action, AuditTarget(job), AuditOutcome.Failed, job.Error);
        }
        Publish(job);
        Trim();
        return job;
    }

    private static string? AuditTarget(BackupJob job) => job switch
    {
        { Kind: BackupJobKind.Copy } => job.Destination is null ? null
            : Storage.BackupFileName.Printable(job.Destination),
        { PointInTime: { } pit } => $"{pit.Target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z",
        _ => job.Filename,
    };

    private static string? AuditDetail(BackupJob job) => job switch
    {
        { Warning: { } warning } => warning,
        { SafetyBackup: { } safety } => $"safety backup {safety}",
        { Copies: { } copies } => $"copied {copies.Sum(c => c.Copied.Count)} backup(s), "
            + $"{copies.Sum(c => c.BytesSent)} bytes sent",
        _ => null,
    };

    private void Publish(BackupJob job)
    {
        _jobs[job.Id] = job;
        Share(job);
        Notify(job);
    }

    private void Notify(BackupJob job)
    {
        foreach (var handler in _subscribers.Handlers)
        {
            try { handler(job); }
            catch (Exception e) { logger.LogWarning(e, "A job subscriber failed"); }
        }
    }

    private void Trim()
    {
        foreach (var old in _jobs.Values.Where(j => j.IsFinished).OrderByDescending(j =>
            j.CreatedAt).Skip(KeepFinished))
            _jobs.TryRemove(old.Id, out _);
    }

    private sealed record ImmutableSubscribers(Action<BackupJob>[] Handlers);

    private sealed class Subscription(BackupJobRunner runner, Action<BackupJob> handler) : IDisposable
    {
        public void Dispose()
        {
            lock (runner._subscribersLock) runner._subscribers = new(runner._subscribers.Handlers.Where(h =>
                h != handler).ToArray());
        }
    }

    /// <summary>Publishes progress at most every 100 ms so a fast create does not flood the page.</summary>
    private sealed class JobProgress(BackupJobRunner runner, Func<BackupJob> current) : IProgress<BackupProgress>
    {
        private DateTime _lastPublished = DateTime.MinValue;
        private string? _lastPhase;
        public BackupProgress? Last { get; private set; }

        public void Report(BackupProgress value)
        {
            Last = value;
            var now = DateTime.UtcNow;
            if (value.Phase == _lastPhase && now - _lastPublished < TimeSpan.FromMilliseconds(100)) return;
            _lastPhase = value.Phase;
            _lastPublished = now;
            runner.Publish(current() with { Progress = value });
        }
    }
}
