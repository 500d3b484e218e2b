using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Drills;

/// <summary>
/// The drills' results, kept beside the backups in <c>.drill-history.json</c> (newest last, the last 1,000), so the
/// history survives a restore of the database and travels with the backup folder. Written whole, temp + rename.
/// </summary>
public sealed class DrillHistory(string backupDirectory)
{
    public const string FileName = ".drill-history.json";
    private const int Keep = 1000;
    private readonly string _path = Path.Combine(backupDirectory, FileName);
    private readonly Lock _lock = new();

    public IReadOnlyList<DrillResult> All()
    {
        lock (_lock)
        {
            try { return JsonSerializer.Deserialize<List<DrillResult>>(File.ReadAllBytes(_path),
                BackupJson.Options) ?? []; }
            catch (Exception e) when (e is IOException or JsonException) { return []; }
        }
    }

    public DrillResult? Last() => All().LastOrDefault();

    public void Add(DrillResult result)
    {
        lock (_lock)
        {
            var all = All().Append(result).TakeLast(Keep).ToList();
            AtomicFile.WriteAllBytes(_path, JsonSerializer.SerializeToUtf8Bytes(all, BackupJson.Options));
        }
    }
}
