using BackupManager.Core.Locking;

namespace BackupManager.Core.Drills;

/// <summary>A request for a restore drill: <paramref name="Filename"/>, or the newest backup when null.</summary>
public sealed record DrillRequest(string? Filename, string RequestedBy, BackupOperationLock.Lease? Lease = null);

/// <summary>
/// What one restore drill found. <see cref="RestoreDuration"/> is the clinic's measured recovery time for that backup:
/// the restore's whole first phase (database and folders restored and every byte checked), without the swap.
/// </summary>
public sealed record DrillResult
{
    public required string Filename { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required string RequestedBy { get; init; }
    public bool Passed => Failures.Count == 0;
    public TimeSpan RestoreDuration { get; init; }
    public TimeSpan TotalDuration { get; init; }
    public long ArchiveBytes { get; init; }
    public int TablesChecked { get; init; }
    public long RowsChecked { get; init; }
    public int FilesChecked { get; init; }
    public int OperatorChecks { get; init; }
    public IReadOnlyList<string> Failures { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>What point-in-time recovery's part of the drill did (recovered to the dump's snapshot and compared
    /// the counts, or why not); null when it is off.</summary>
    public string? PointInTime { get; init; }
}
