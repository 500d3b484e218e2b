namespace BackupManager.Core.Restore;

/// <summary>What a restore (or a drill) of an archive puts back for the chosen scope, refused with a message that says
/// what to do when the archive or this installation cannot support it.</summary>
internal static class RestorePlanner
{
    /// <summary>The plan for <paramref name="request"/>'s scope; <paramref name="canRestoreDatabase"/>: a database is
    /// configured to restore into; <paramref name="roots"/>: the folders configured here, matched to the archive's by
    /// name.</summary>
    public static RestorePlan Plan(BackupManifest manifest, RestoreBackupRequest request, bool canRestoreDatabase,
        IReadOnlyList<FileRoot> roots)
    {
        var archiveHasDatabase = manifest.Database is not null;
        var archiveRoots = manifest.Roots.Select(r => r.Name).ToList();
        var database = request.Scope != BackupScope.FilesOnly && archiveHasDatabase;
        var withFiles = request.Scope != BackupScope.DatabaseOnly && manifest.Contains.Contains(BackupContents.Files);
        if (request.Scope == BackupScope.DatabaseOnly && !archiveHasDatabase)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"{request.Filename} contains no database; restore its files instead.");
        if (request.Scope == BackupScope.FilesOnly && !withFiles)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"{request.Filename} contains no files; restore its database instead.");
        if (database && !canRestoreDatabase)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No database is configured to restore into. Set ConnectionStrings__Default or Backup__Database.");
        var folders = new List<(string, FileRoot)>();
        if (withFiles)
        {
            foreach (var rootName in archiveRoots)
            {
                var target = roots.FirstOrDefault(r => r.Name == rootName)
                    ?? throw new BackupException(BackupErrorKind.InvalidInput,
                        $"{request.Filename} holds the folder '{rootName}', which is not configured here. Add its "
                            + $"location to Backup__Paths, or restore the database only.");
                folders.Add((rootName, target));
            }
        }
        if (!database && folders.Count == 0)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"{request.Filename} holds nothing to restore for the chosen scope.");
        return new RestorePlan(database, folders);
    }
}
