using System.Text.Json;
using BackupManager.Core.Cluster;
using BackupManager.Core.IO;

namespace BackupManager.Core.Locking;

/// <summary>
/// The one-operation-at-a-time lock shared by every process that uses a backup folder (web app, console commands,
/// scheduled jobs). Contract: at most one <see cref="Lease"/> exists per backup folder at any moment, across processes;
/// a process that dies (even by kill -9) releases it, because it is an OS file lock (flock through .NET's
/// FileShare.None) on <c>.backupmanager.lock</c>, not a marker file. A refused caller gets a
/// <see cref="BackupException"/> of kind <see cref="BackupErrorKind.Busy"/> that names the current holder.
/// The lock is not re-entrant: a caller that already holds a lease (the job runner, which takes it before it answers)
/// hands it on explicitly, and the engine uses it through <see cref="AcquireUnless"/> instead of taking another.
/// In cluster mode (<paramref name="cluster"/> enabled) a lease also holds the PostgreSQL advisory lock
/// <see cref="ClusterLockKeys.OperationLock"/> on a session of its own, so instances on other hosts are excluded too
/// (a shared mount's file locks may not reach them); that lock is the truth, the file lock only spares a round trip.
/// </summary>
public sealed class BackupOperationLock(string backupDirectory, ClusterOptions? cluster = null)
{
    public const string LockFileName = ".backupmanager.lock";
    private const string HolderFileName = ".backupmanager.lock.json";

    private readonly ClusterAdvisoryLock? _cluster = cluster is { Enabled: true }
        ? new ClusterAdvisoryLock(cluster, ClusterLockKeys.OperationLock, "the operation lock") : null;
    private readonly string? _instance = cluster is { Enabled: true } ? cluster.ResolvedInstanceName : null;

    private string LockPath => Path.Combine(backupDirectory, LockFileName);
    private string HolderPath => Path.Combine(backupDirectory, HolderFileName);

    /// <summary>Takes the lock now or throws Busy.</summary>
    public Lease Acquire(string operation, string actor) =>
        TryAcquire(operation, actor) ?? throw BusyError();

    /// <summary>
    /// The lease an operation runs under: <paramref name="held"/> when the caller hands one on (it must still be held,
    /// and of this lock), otherwise a new one. Returns only what this call took (null when <paramref name="held"/> is
    /// used), so the caller's <c>using</c> never releases a lease it was lent.
    /// </summary>
    public Lease? AcquireUnless(Lease? held, string operation, string actor)
    {
        if (held is null) return Acquire(operation, actor);
        if (!held.IsHeld || !ReferenceEquals(held.Owner, this))
            throw new InvalidOperationException(
                "The lease handed on is not a held lease of this backup folder's lock.");
        return null;
    }

    /// <summary>Waits up to <paramref name="wait"/> for the lock (scheduled runs queue behind a manual one).</summary>
    public async Task<Lease> WaitAsync(string operation, string actor, TimeSpan wait,
        CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        while (true)
        {
            if (TryAcquire(operation, actor) is { } lease) return lease;
            if (DateTimeOffset.UtcNow >= deadline) throw BusyError();
            // Each cluster try opens a database session: a slower pace there.
            await Task.Delay(TimeSpan.FromMilliseconds(_cluster is null ? 200 : 1000), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Takes the lock now, or returns null when another holds it (also when this process does). In cluster
    /// mode an unreachable database throws <see cref="BackupException"/> (Database): nothing runs unlocked.</summary>
    public Lease? TryAcquire(string operation, string actor)
    {
        Directory.CreateDirectory(backupDirectory);
        FileStream stream;
        try
        {
            stream = new FileStream(LockPath, PrivateFiles.Create(FileMode.OpenOrCreate, FileAccess.ReadWrite));
        }
        catch (IOException)
        {
            return null;
        }
        IDisposable? shared = null;
        try
        {
            if (_cluster is not null && (shared = _cluster.TryTake()) is null)
            {
                stream.Dispose();
                return null;
            }
            var holder = new LockHolder(operation, actor, Environment.ProcessId, DateTimeOffset.UtcNow, _instance);
            AtomicFile.WriteAllBytes(HolderPath, JsonSerializer.SerializeToUtf8Bytes(holder, BackupJson.Options));
        }
        catch
        {
            shared?.Dispose();
            stream.Dispose();
            throw;
        }
        return new Lease(this, stream, HolderPath, shared);
    }

    /// <summary>The current holder, if one is known (best effort: the lock itself is the truth).</summary>
    public LockHolder? CurrentHolder()
    {
        try { return JsonSerializer.Deserialize<LockHolder>(File.ReadAllBytes(HolderPath), BackupJson.Options); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Whether an operation seems to run now: a holder is recorded and its process is alive (a killed one
    /// leaves its record). In cluster mode the advisory lock answers (the holder may run on another host); when the
    /// database cannot tell, a recorded holder counts as busy.</summary>
    public bool SeemsBusy()
    {
        if (_cluster is not null) return _cluster.IsHeldAnywhere() ?? CurrentHolder() is not null;
        if (CurrentHolder() is not { } holder) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(holder.ProcessId);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    public BackupException BusyError()
    {
        var holder = CurrentHolder();
        var where = holder?.Instance is { } instance ? $" on {instance}" : "";
        var who = holder is null ? ""
            : $" ({holder.Operation} by {holder.Actor}{where}, started {holder.Since:yyyy-MM-dd HH:mm:ss} UTC)";
        return new BackupException(BackupErrorKind.Busy,
            $"Another backup operation is running{who}. Wait for it to finish and try again.");
    }

    /// <summary>A held lock; disposing releases it.</summary>
    public sealed class Lease(BackupOperationLock owner, FileStream stream, string holderPath,
        IDisposable? shared = null) : IDisposable
    {
        private bool _released;

        internal BackupOperationLock Owner => owner;

        public bool IsHeld => !_released;

        /// <summary>Throws unless this lease is still held: work handed a lease runs only under the lock.</summary>
        internal void EnsureHeld()
        {
            if (_released) throw new InvalidOperationException("This work runs only under a held operation lease.");
        }

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            try { File.Delete(holderPath); } catch (IOException) { /* informational file only */ }
            stream.Dispose();
            shared?.Dispose(); // last: the cluster-wide lock goes once this host is done
        }
    }
}
