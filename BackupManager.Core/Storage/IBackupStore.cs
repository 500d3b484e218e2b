namespace BackupManager.Core.Storage;

/// <summary>
/// The backup folder: the single source of truth for which backups exist (a restored database never forgets one).
/// Contract:
/// <list type="bullet">
/// <item>Only files named by <see cref="BackupFileName"/> are backups; other files in the folder are ignored.</item>
/// <item><see cref="ResolveExisting"/> is the only way from a user-supplied name to a path. It throws InvalidInput for
/// a name that is not a backup name and NotFound for one that is not a regular file in the folder (symbolic links are
/// refused), so nothing outside the folder can be reached through a filename.</item>
/// <item>A new archive is written to <see cref="NewTempPath"/> and becomes visible only through <see cref="Commit"/>, a
/// rename after the data was flushed: a reader never sees a half-written backup.</item>
/// </list>
/// </summary>
public interface IBackupStore
{
    string Directory { get; }
    IReadOnlyList<BackupInfo> List();
    string ResolveExisting(string filename);
    string NewTempPath();
    /// <summary>A temporary path for an incoming upload; such files are removed at start only once they are a day
    /// old.</summary>
    string NewUploadPath();
    /// <summary>Renames a flushed temp file to its final, unique backup name and returns that name.</summary>
    string Commit(string tempPath, DateTimeOffset createdAt);
    void Delete(string filename);
    void SetPinned(string filename, bool pinned);
    /// <summary>Deletes temp files left by a killed create; call only while holding the operation lock.</summary>
    int RemoveLeftovers();
}
