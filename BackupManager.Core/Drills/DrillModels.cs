using System.Text.Json;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Drills;

/// <summary>A request for a restore drill: <paramref name="Filename"/>, or the newest backup when null.</summary>
public sealed record DrillRequest(string? Filename, string RequestedBy);

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
}

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
