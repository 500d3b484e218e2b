using BackupManager.Core.Archive;
using BackupManager.Core.Restore;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core;

public sealed partial class BackupService
{
    public async Task<RestoreResult> RestoreAsync(RestoreBackupRequest request,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.AcquireUnless(request.Lease, "restore", request.RequestedBy);
        var path = _store.ResolveExisting(request.Filename);
        await FinishPendingRestoreAsync().ConfigureAwait(false);
        // Opening checks every byte outside the entries; each entry's bytes are checked as they stream into the
        // staging copies, and nothing live is touched until all of them passed.
        progress?.Report(new BackupProgress("restore", "Verifying the backup"));
        using var archive = BackupArchiveReader.Open(path);
        var foreign = _signer is not null && !_signer.IsOwn(ArchiveSummary.ReadFromFile(path), request.Filename);
        if (foreign && !request.AllowForeign) throw ArchiveSigner.RefusedAsForeign(request.Filename);
        var plan = PlanRestore(archive.Manifest, request) with { Foreign = foreign };

        progress?.Report(new BackupProgress("restore", "Restoring into staging copies"));
        var swapStarted = new System.Runtime.CompilerServices.StrongBox<bool>();
        RestoreResult result;
        try
        {
            result = await NewRestoreCoordinator().RunAsync(archive, () => BackupArchiveReader.Open(path), plan,
                request.RequestedBy, progress, swapStarted, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!swapStarted.Value && e is BackupException or IOException)
        {
            if (e is BackupException { Kind: BackupErrorKind.Damaged }) throw;
            var kind = e is BackupException be ? be.Kind : BackupErrorKind.Environment;
            var detail = e is IOException io ? DescribeIo(io) : e.Message;
            throw new BackupException(kind,
                $"The restore of {request.Filename} failed and nothing was changed: {detail}", e);
        }
        foreach (var warning in result.Warnings) _logger.LogWarning("{Warning}", warning);
        _logger.LogInformation(
            "Restored {Backup} (database: {Database}, folders: {Folders}) for {User}; safety backup {Safety}",
            request.Filename, result.RestoredDatabase, string.Join(", ", result.RestoredFolders), request.RequestedBy,
                result.SafetyBackup);
        return result;
    }

    private RestorePlan PlanRestore(BackupManifest manifest, RestoreBackupRequest request)
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
        if (database && _restorer is null)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No database is configured to restore into. Set ConnectionStrings__Default or Backup__Database.");
        var folders = new List<(string, FileRoot)>();
        if (withFiles)
        {
            foreach (var rootName in archiveRoots)
            {
                var target = _roots.FirstOrDefault(r => r.Name == rootName)
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
