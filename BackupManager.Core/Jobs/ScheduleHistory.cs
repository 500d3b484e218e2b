using System.Text.Json;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Jobs;

public enum ScheduledRunOutcome { Succeeded, Failed, Skipped }

/// <summary>The last run of one schedule, for the page, health and notifications.</summary>
public sealed record ScheduledRun(string Schedule, DateTimeOffset At, ScheduledRunOutcome Outcome, string? Filename, string? Detail, bool CatchUp);

/// <summary>
/// The last outcome of each schedule, kept in <c>.schedule-history.json</c> beside the backups so it survives restarts
/// and database restores. Written atomically; readers never see half a file.
/// </summary>
public sealed class ScheduleHistory(string backupDirectory)
{
    public const string FileName = ".schedule-history.json";
    private readonly Lock _lock = new();

    private string PathName => Path.Combine(backupDirectory, FileName);

    public IReadOnlyDictionary<string, ScheduledRun> Last()
    {
        lock (_lock)
        {
            try { return JsonSerializer.Deserialize<Dictionary<string, ScheduledRun>>(File.ReadAllBytes(PathName), BackupJson.Options) ?? []; }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException) { return new Dictionary<string, ScheduledRun>(); }
        }
    }

    public void Record(ScheduledRun run)
    {
        lock (_lock)
        {
            var all = new Dictionary<string, ScheduledRun>(Last()) { [run.Schedule] = run };
            Directory.CreateDirectory(backupDirectory);
            AtomicFile.WriteAllBytes(PathName, JsonSerializer.SerializeToUtf8Bytes(all, BackupJson.Options));
        }
    }
}
