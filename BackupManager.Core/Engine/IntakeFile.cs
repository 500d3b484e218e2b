namespace BackupManager.Core.Engine;

/// <summary>
/// A temporary file in the backup folder's intake area (<c>IBackupStore.NewUploadPath()</c>) that the intake owns: an
/// upload being received, or an exact copy rebuilt from an off-site destination. Disposing deletes it; after a commit
/// (a rename) nothing is left to delete.
/// </summary>
internal sealed class IntakeFile(string path, string? exactName) : IDisposable
{
    public string Path => path;

    /// <summary>The backup name an exact copy must keep; null for an upload, which is named after its own date.
    /// </summary>
    public string? ExactName => exactName;

    public bool IsUpload => exactName is null;

    /// <summary>How the file is named in a reader's error.</summary>
    public string Described => exactName ?? "uploaded file";

    /// <summary>The start of the sentence that says the file was not stored.</summary>
    public string Subject => exactName is null ? "The upload" : $"The copy of {exactName}";

    public void Dispose() => BackupFolderChanges.TryDelete(path);
}
