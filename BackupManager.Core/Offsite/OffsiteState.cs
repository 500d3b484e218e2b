using System.Text.Json;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Offsite;

/// <summary>What this installation last learned about one destination (kept in <c>.offsite-state.json</c>).</summary>
public sealed record DestinationState
{
    public DateTimeOffset? LastSuccessAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public string? LastError { get; init; }
    public int ConsecutiveFailures { get; init; }
    /// <summary>The last error needs a person (see <see cref="Storage.DestinationException.NeedsAction"/>).</summary>
    public bool LastErrorNeedsAction { get; init; }
    /// <summary>The backups the destination held at the last listing (their catalogs were there).</summary>
    public IReadOnlyList<string> Held { get; init; } = [];
    public long LastBytesSent { get; init; }
    public DateTimeOffset? LastCheckAt { get; init; }
    public IReadOnlyList<string> CheckProblems { get; init; } = [];
    /// <summary>Where the daily re-download sample continues (an index into the sorted object keys).</summary>
    public int SampleCursor { get; init; }
}

/// <summary>
/// The per-destination state file in the backup folder. Written whole (temp + fsync + rename) under a lock; read by
/// every process (the web app's copier, the console, health), so it is re-read when another process changed it.
/// </summary>
internal sealed class OffsiteStateFile(string backupDirectory)
{
    public const string FileName = ".offsite-state.json";
    private readonly string _path = Path.Combine(backupDirectory, FileName);
    private readonly Lock _lock = new();

    public IReadOnlyDictionary<string, DestinationState> ReadAll()
    {
        lock (_lock)
        {
            try
            {
                return JsonSerializer.Deserialize<Dictionary<string,
                    DestinationState>>(File.ReadAllBytes(_path), BackupJson.Options)
                    is { } all ? new Dictionary<string, DestinationState>(all, StringComparer.OrdinalIgnoreCase) : [];
            }
            catch (Exception e) when (e is IOException or JsonException) { return new Dictionary<string,
                DestinationState>(); }
        }
    }

    public DestinationState Read(string name) => ReadAll().GetValueOrDefault(name) ?? new DestinationState();

    public DestinationState Update(string name, Func<DestinationState, DestinationState> change)
    {
        lock (_lock)
        {
            var all = new Dictionary<string, DestinationState>(ReadAll(), StringComparer.OrdinalIgnoreCase);
            var updated = change(all.GetValueOrDefault(name) ?? new DestinationState());
            all[name] = updated;
            AtomicFile.WriteAllBytes(_path, JsonSerializer.SerializeToUtf8Bytes(all, BackupJson.Options));
            return updated;
        }
    }
}
