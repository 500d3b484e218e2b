namespace BackupManager.Core.Jobs;

/// <summary>A single server: jobs live in this process's memory only, and there are no other instances.</summary>
public sealed class NoJobStateShare : IJobStateShare
{
    public static readonly NoJobStateShare Instance = new();

    public void Offer(BackupJob job) { }

    public Task<BackupJob?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        Task.FromResult<BackupJob?>(null);

    public Task<IReadOnlyList<BackupJob>> OthersAsync(IReadOnlyCollection<Guid> watched,
        CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<BackupJob>>([]);
}
