using System.Globalization;
using System.Text;
using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Jobs;

/// <summary>
/// The last outcome of each schedule, kept in <c>.schedule-history.json</c> beside the backups so it survives restarts
/// and database restores. Written atomically; readers never see half a file.
/// </summary>
public sealed class ScheduleHistory(string backupDirectory)
{
    public const string FileName = ".schedule-history.json";
    public const string SinceFileName = ".schedules-since";
    private readonly Lock _lock = new();

    private string PathName => Path.Combine(backupDirectory, FileName);

    public IReadOnlyDictionary<string, ScheduledRun> Last()
    {
        lock (_lock)
        {
            try { return JsonSerializer.Deserialize<Dictionary<string,
                ScheduledRun>>(File.ReadAllBytes(PathName), BackupJson.Options) ?? []; }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
            {
                return new Dictionary<string, ScheduledRun>();
            }
        }
    }

    /// <summary>
    /// When the schedules began to be kept for this backup folder, recorded in <c>.schedules-since</c> on the first
    /// call. A folder from before that record counts from its oldest backup or recorded run; a new one from now.
    /// </summary>
    public DateTimeOffset KeptSince(DateTimeOffset now, DateTimeOffset? oldestBackup)
    {
        var runs = Last().Values.Select(r => (DateTimeOffset?)r.At).Min();
        lock (_lock)
        {
            var path = Path.Combine(backupDirectory, SinceFileName);
            try
            {
                return DateTimeOffset.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or FormatException) { }
            var since = new[] { oldestBackup, runs, now }.Min()!.Value;
            Directory.CreateDirectory(backupDirectory);
            AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(since.ToString("O", CultureInfo.InvariantCulture)));
            return since;
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
