using BackupManager.Core.Locking;
using BackupManager.Core.Audit;
using BackupManager.Core.Drills;
using BackupManager.Core.Offsite.Age;

namespace BackupManager.Core.Jobs;

public sealed partial class BackupJobRunner
{
    /// <summary>
    /// Starts copying what <paramref name="destination"/> (null: every destination) lacks, then its retention. Takes
    /// no operation lock, as the background copier does not: copies of one destination serialise on their own lock.
    /// The job fails when a destination's copy failed; <see cref="BackupJob.Copies"/> says what each one did.
    /// </summary>
    public BackupJob StartCopy(string? destination, Actor actor)
    {
        string? name;
        try { name = destination is null ? null : offsite.DestinationName(destination); }
        catch (BackupException e)
        {
            audit.Record(actor.Name, actor.Address, "copy-offsite", Storage.BackupFileName.Printable(destination!),
                AuditOutcome.Refused, e.Message);
            throw;
        }
        var job = NewJob(BackupJobKind.Copy, BackupScope.Full, actor) with { Destination = name };
        return Start(job, null, "copy-offsite", actor, async (running, _, progress, token) =>
        {
            var reports = await offsite.CopyPendingAsync(destination: name, progress: progress,
                cancellationToken: token).ConfigureAwait(false);
            var failed = reports.FirstOrDefault(r => !r.Succeeded);
            return running with { Copies = reports, Error = failed?.Error,
                ErrorKind = failed is null ? null : BackupErrorKind.Destination };
        });
    }

    /// <summary>
    /// Starts fetching <paramref name="filename"/> back from <paramref name="destination"/> and restoring it, under
    /// one lease of the operation lock (a create in between could prune the fetched archive), as
    /// <c>restore-backup --from</c> does: the rebuilt copy is verified while the restore stages it and joins the backup
    /// folder before the swap. The job owns <paramref name="identities"/> and disposes them once it is over (or at
    /// once, when it does not start); they are never stored or logged.
    /// </summary>
    public BackupJob StartFetchRestore(string destination, string filename, IReadOnlyList<AgeIdentity> identities,
        BackupScope scope, Actor actor, bool allowForeign = false)
    {
        try
        {
            var name = offsite.DestinationName(destination);
            if (!Storage.BackupFileName.IsValid(filename)) throw new BackupException(BackupErrorKind.InvalidInput,
                $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
            var job = NewJob(BackupJobKind.FetchRestore, scope, actor) with { Filename = filename, Destination = name };
            return Start(job, "restore", "restore", actor, (running, lease, progress, token) =>
                FetchAndRestoreAsync(running, identities, allowForeign, actor, lease, progress, token));
        }
        catch
        {
            Forget(identities);
            throw;
        }
    }

    /// <summary>Starts a restore drill of <paramref name="filename"/> (null: the newest of the clinic's own backups).
    /// A drill that ran but did not pass is a failed job; <see cref="BackupJob.Drill"/> holds what it found.</summary>
    public BackupJob StartDrill(string? filename, Actor actor) =>
        Start(NewJob(BackupJobKind.Drill, BackupScope.Full, actor) with { Filename = filename }, "drill",
            "restore-drill", actor, (job, lease, progress, token) => DrillAsync(job, actor, lease, progress, token));

    /// <summary>Runs a drill for a schedule: waits up to <paramref name="waitForLock"/> for a running operation, then
    /// drills as a visible job and returns its final state. Throws Busy when the lock did not come free in time.
    /// </summary>
    public Task<BackupJob> RunDrillAsync(Actor actor, TimeSpan waitForLock, CancellationToken cancellationToken) =>
        RunWhenFreeAsync(NewJob(BackupJobKind.Drill, BackupScope.Full, actor), "drill", "restore-drill", actor,
            waitForLock, (job, lease, progress, token) => DrillAsync(job, actor, lease, progress, token),
            cancellationToken);

    private async Task<BackupJob> DrillAsync(BackupJob job, Actor actor, BackupOperationLock.Lease? lease,
        IProgress<BackupProgress> progress, CancellationToken token)
    {
        var result = await engine.DrillAsync(new DrillRequest(job.Filename, actor.Name, lease), progress, token)
            .ConfigureAwait(false);
        return job with { Filename = result.Filename, Drill = result, Error = result.Passed ? null
            : $"The drill of {result.Filename} failed: {string.Join(" ", result.Failures)}" };
    }

    /// <summary>Fetches and restores in one pass. The fetch is audited on its own (<c>fetch-from:destination</c>):
    /// succeeded once the archive is rebuilt and its SHA-256 matched (what the restore then finds is the restore's
    /// outcome), refused or failed when it was not. The identities are forgotten as soon as the copy is rebuilt.
    /// </summary>
    private async Task<BackupJob> FetchAndRestoreAsync(BackupJob job, IReadOnlyList<AgeIdentity> identities,
        bool allowForeign, Actor actor, BackupOperationLock.Lease? lease, IProgress<BackupProgress> progress,
        CancellationToken token)
    {
        var (destination, filename) = (job.Destination!, job.Filename!);
        var action = $"fetch-from:{destination}";
        progress.Report(new BackupProgress("fetch", $"Fetching {filename} from {destination}"));
        var fetched = false;
        try
        {
            var result = await offsite.FetchAndRestoreAsync(destination, identities, new RestoreBackupRequest(filename,
                job.Scope, actor.Name, allowForeign, lease), progress, token, () =>
            {
                fetched = true;
                Forget(identities); // the rebuild and the naming key are done with them: not held through a restore
                audit.Record(actor.Name, actor.Address, action, filename, AuditOutcome.Succeeded);
            }).ConfigureAwait(false);
            return Restored(job, result);
        }
        catch (BackupException e) when (!fetched)
        {
            audit.Record(actor.Name, actor.Address, action, filename,
                e.Kind is BackupErrorKind.InvalidInput or BackupErrorKind.NotFound
                    ? AuditOutcome.Refused : AuditOutcome.Failed, e.Message);
            throw;
        }
        finally
        {
            Forget(identities);
        }
    }

    private static void Forget(IReadOnlyList<AgeIdentity> identities)
    {
        foreach (var identity in identities) identity.Dispose();
    }
}
