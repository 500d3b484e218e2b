namespace BackupManager.Core.Database;

/// <summary>What to run: arguments are a list (never a shell string) and secrets travel only in <see
/// cref="Environment"/>.</summary>
public sealed record ExternalProcessRequest(string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Consumes standard output as a stream (e.g. into a zip entry); null captures it as text.</summary>
    public Func<Stream, CancellationToken, Task>? ReadStandardOutput { get; init; }
    /// <summary>Feeds standard input (e.g. a dump out of a zip entry); null closes it at once.</summary>
    public Func<Stream, CancellationToken, Task>? WriteStandardInput { get; init; }
    /// <summary>Runs the program niced, in the idle I/O class (a low-priority backup).</summary>
    public bool LowPriority { get; init; }
}
