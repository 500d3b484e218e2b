using BackupManager.Core.Retention;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// The engine's writes to the backup folder that every path shares: committing a finished archive (and telling this
/// process's copier), applying retention, and the words for a failed disk operation. Call only under the operation
/// lock.
/// </summary>
internal sealed class BackupFolderChanges(BackupOptions options, IBackupStore store, TimeProvider time, ILogger logger,
    BackupCommitted? committed)
{
    /// <summary>Moves a finished archive into the folder and tells this process's copier about it.</summary>
    public string Commit(string temp, DateTimeOffset createdAt)
    {
        var filename = store.Commit(temp, createdAt);
        committed?.Raise(filename);
        return filename;
    }

    /// <summary>Deletes what the retention rules no longer keep; <paramref name="justCreated"/> is always kept.
    /// </summary>
    public IReadOnlyList<RetentionDecision> ApplyRetention(string? justCreated)
    {
        var decisions = RetentionPolicy.From(options).Evaluate(store.List(), time.GetUtcNow(), justCreated);
        foreach (var decision in decisions.Where(d => !d.Keep))
        {
            try
            {
                store.Delete(decision.Backup.Filename);
                logger.LogInformation("Retention deleted {Backup}: {Reason}", decision.Backup.Filename,
                    decision.Reason);
            }
            catch (Exception e) when (e is IOException or BackupException)
            {
                logger.LogWarning(e, "Retention could not delete {Backup}", decision.Backup.Filename);
            }
        }
        return decisions;
    }

    /// <summary>An I/O failure as a person reads it: a full disk says where to free space.</summary>
    public string DescribeIo(IOException e) =>
        e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            ? $"the disk is full ({e.Message}). Free space in {store.Directory} (delete old backups or move "
                + $"Backup__Directory) and try again."
            : e.Message;

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { /* the next start removes leftovers */ }
    }
}
