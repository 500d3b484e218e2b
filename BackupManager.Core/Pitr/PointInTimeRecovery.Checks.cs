namespace BackupManager.Core.Pitr;

public sealed partial class PointInTimeRecovery
{
    /// <summary>Backup__Pitr__Enabled: WAL is received, so the pages and the API offer restores to a time.</summary>
    public bool Enabled => source.Options.Pitr.Enabled;

    /// <summary>The backup a Full restore to <paramref name="target"/> takes the files from: the newest readable one
    /// with files made at or before it; null when there is none (or no folders are backed up).</summary>
    public async Task<BackupInfo?> FilesBackupAtAsync(DateTimeOffset target, CancellationToken cancellationToken) =>
        source.Options.Paths.Count == 0 ? null
            : (await backups.ListAsync(cancellationToken).ConfigureAwait(false))
                .Where(b => b.Readable && b.HasFiles && b.CreatedAt <= target)
                .OrderByDescending(b => b.CreatedAt).FirstOrDefault();

    /// <summary>
    /// Everything a job checks before it starts, so a refusal comes at once and nothing changes: point-in-time
    /// recovery is on, the scope has a point in time, the window and WAL reach <paramref name="target"/>, and a Full
    /// restore has a backup to take the files from. Returns the base backup it starts from.
    /// </summary>
    public async Task<BaseBackupRecord> CheckAsync(DateTimeOffset target, BackupScope scope,
        CancellationToken cancellationToken)
    {
        if (!Enabled)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "Point-in-time recovery is off. Turn it on with Backup__Pitr__Enabled=true (the app then receives "
                + "WAL), take a base backup, and restore to a time after it. Nothing was changed.");
        if (scope == BackupScope.FilesOnly)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "Files have no point in time of their own: restore the database only, the database and files, or "
                + "a regular backup's files. Nothing was changed.");
        var chosen = await CheckAsync(target, cancellationToken).ConfigureAwait(false);
        if (scope == BackupScope.Full && source.Options.Paths.Count > 0
            && await FilesBackupAtAsync(target, cancellationToken).ConfigureAwait(false) is null)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"No backup with files was made at or before {target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, so the files "
                + "of that time are unknown. Restore the database only. Nothing was changed.");
        return chosen;
    }
}
