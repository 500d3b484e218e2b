using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Offsite;

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
