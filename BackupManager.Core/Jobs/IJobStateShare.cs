namespace BackupManager.Core.Jobs;

/// <summary>
/// Where the job runner shares its jobs' state with other instances of the app. Contract: <see cref="Offer"/> never
/// blocks and never throws (a job must not fail because its state could not be shared; the implementation writes in
/// the background and logs a failure); the readers answer jobs of other instances only as well as the shared store
/// knows them (null or empty when it does not), with a job whose instance stopped reported as failed with
/// <see cref="BackupErrorKind.Interrupted"/>. A single server uses <see cref="NoJobStateShare"/>.
/// </summary>
public interface IJobStateShare
{
    /// <summary>Records a new state of one of this instance's jobs.</summary>
    void Offer(BackupJob job);

    /// <summary>The job as the shared store knows it, null when it does not.</summary>
    Task<BackupJob?> FindAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Other instances' unfinished jobs, plus the current state of <paramref name="watched"/> (so a job seen
    /// running is also seen ending).</summary>
    Task<IReadOnlyList<BackupJob>> OthersAsync(IReadOnlyCollection<Guid> watched, CancellationToken cancellationToken);
}
