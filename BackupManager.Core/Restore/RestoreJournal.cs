using System.Text.Json;
using BackupManager.Core.IO;

namespace BackupManager.Core.Restore;

/// <summary>
/// The restore's write-ahead record in <c>.restore-journal.json</c> beside the backups. Written atomically before
/// each phase, it names every staging and old copy, so a restore killed at any instant is finished or undone at the
/// next start and the database and folders always end up both old or both new.
/// </summary>
public sealed record RestoreJournal
{
    public const string FileName = ".restore-journal.json";

    public string Id { get; init; } = "";
    public string Backup { get; init; } = "";
    public string? SafetyBackup { get; init; }
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When the previous state was swapped out: the safety backup's creation time.</summary>
    public DateTimeOffset? ParkedAt { get; init; }
    public RestoreJournalState State { get; init; }
    public string? DatabaseStaging { get; init; }
    public string? DatabaseOld { get; init; }
    public IReadOnlyList<FolderSwapPlan> Folders { get; init; } = [];
    /// <summary>A restore drill: its staging copies are scratch copies, only ever removed (it never reaches
    /// committing).</summary>
    public bool Drill { get; init; }

    public static string PathIn(string backupDirectory) => Path.Combine(backupDirectory, FileName);

    public void Save(string backupDirectory) =>
        AtomicFile.WriteAllBytes(PathIn(backupDirectory),
            JsonSerializer.SerializeToUtf8Bytes(this, BackupJson.Options));

    public static RestoreJournal? Load(string backupDirectory)
    {
        var path = PathIn(backupDirectory);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<RestoreJournal>(File.ReadAllBytes(path), BackupJson.Options); }
        catch (JsonException e)
        {
            throw new BackupException(BackupErrorKind.Environment,
                $"The restore journal {path} is unreadable ({e.Message}). Inspect the folders named *.bm-staging-* "
                    + $"and *.bm-old-* and the databases named *__bm_* by hand, then delete the journal.", e);
        }
    }

    public static void Delete(string backupDirectory)
    {
        File.Delete(PathIn(backupDirectory));
        NativeFileSystem.FsyncDirectory(backupDirectory);
    }
}
