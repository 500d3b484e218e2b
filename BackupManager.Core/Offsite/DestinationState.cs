namespace BackupManager.Core.Offsite;

/// <summary>What this installation last learned about one destination (kept in <c>.offsite-state.json</c>).</summary>
public sealed record DestinationState
{
    public DateTimeOffset? LastSuccessAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public string? LastError { get; init; }
    public int ConsecutiveFailures { get; init; }
    /// <summary>The last error needs a person (see
    /// <see cref="Destinations.DestinationException.NeedsAction"/>).</summary>
    public bool LastErrorNeedsAction { get; init; }
    /// <summary>The backups the destination held at the last listing (their catalogs were there).</summary>
    public IReadOnlyList<string> Held { get; init; } = [];
    public long LastBytesSent { get; init; }
    public DateTimeOffset? LastCheckAt { get; init; }
    public IReadOnlyList<string> CheckProblems { get; init; } = [];
    /// <summary>Where the daily re-download sample continues (an index into the sorted object keys).</summary>
    public int SampleCursor { get; init; }
    /// <summary>Point-in-time recovery's copies (WAL and base backups) to this destination.</summary>
    public DateTimeOffset? PitrLastSuccessAt { get; init; }
    public string? PitrLastError { get; init; }
    public int PitrFailures { get; init; }
}
