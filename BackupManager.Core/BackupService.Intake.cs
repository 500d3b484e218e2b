using BackupManager.Core.Locking;
using BackupManager.Core.Archive;
using BackupManager.Core.Restore;
using BackupManager.Core.IO;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core;

public sealed partial class BackupService
{
    public async Task<BackupInfo> ImportAsync(Stream content, long maxBytes, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        var temp = _store.NewUploadPath();
        try
        {
            await using (var output = new FileStream(temp,
                PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: BackupArchiveWriter.BufferSize)))
            {
                var buffer = new byte[BackupArchiveWriter.BufferSize];
                long total = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > maxBytes)
                        throw new BackupException(BackupErrorKind.TooLarge,
                            $"The upload is larger than the limit of {maxBytes:N0} bytes (Backup__MaxUploadBytes). "
                                + $"Raise the limit or copy the file into the backup folder by hand.");
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                output.Flush(flushToDisk: true);
            }
            using var lease = _lock.Acquire("upload", requestedBy);
            DateTimeOffset createdAt;
            ArchiveSummary summary;
            using (var archive = BackupArchiveReader.Open(temp, "uploaded file"))
            {
                // Declared sizes against the disks the files would be restored to, before inflating anything.
                RestoreSpaceCheck.Ensure("uploaded file", archive.Manifest,
                    new RestorePlan(false, [.. _roots.Select(r => (r.Name, r))]), upload: true);
                await archive.VerifyAsync(null, cancellationToken).ConfigureAwait(false);
                createdAt = archive.Manifest.CreatedAt;
                var manifest = archive.Manifest;
                // A future date would make it "newest" for years: health would trust it and retention keep it above
                // real backups.
                if (createdAt > _time.GetUtcNow() + MaxClockSkew)
                    throw new BackupException(BackupErrorKind.Refused,
                        $"The uploaded backup says it was made at {createdAt:u}, which is in the future (this "
                            + $"server's time is {_time.GetUtcNow():u}), so it was not accepted. "
                        + "If the machine that made it has a wrong clock, fix that clock; if this server's clock is "
                            + "wrong, fix this one, then upload again.");
                // The zip comment is covered by no signature: what listing, health and retention read is re-derived
                // from the verified manifest.
                summary = ArchiveSummary.ReadFromFile(temp)! with
                {
                    CreatedAt = createdAt, Contains = manifest.Contains, Warnings = manifest.Warnings.Count,
                };
            }
            var filename = BackupFileName.For(createdAt);
            if (File.Exists(Path.Combine(_store.Directory, filename)))
                throw new BackupException(BackupErrorKind.AlreadyExists,
                    $"A backup named {filename} already exists; this upload is probably the same backup.");
            ArchiveSummary.RewriteInFile(temp,
                summary with { Trigger = BackupTrigger.Upload, RequestedBy = requestedBy });
            var committed = Commit(temp, createdAt);
            _logger.LogInformation("Imported uploaded backup {Backup} for {User}", committed, requestedBy);
            return _store.List().Single(b => b.Filename == committed);
        }
        catch (IOException e)
        {
            throw new BackupException(BackupErrorKind.Environment, $"The upload was not stored: {DescribeIo(e)}", e);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public async Task<BackupInfo> AddExactCopyAsync(string filename, string rebuiltFile, string requestedBy,
        BackupOperationLock.Lease? lease = null, CancellationToken cancellationToken = default)
    {
        var temp = rebuiltFile;
        // Only a file in the backup folder's own intake area may be committed (a rename, never a copy); checked
        // before taking ownership so a wrong path is never deleted.
        if (Path.GetDirectoryName(Path.GetFullPath(temp))
            != Path.TrimEndingDirectorySeparator(Path.GetFullPath(_store.Directory))
            || !Path.GetFileName(temp).StartsWith(BackupFolderStore.UploadPrefix, StringComparison.Ordinal))
            throw new ArgumentException("The rebuilt file must come from IBackupStore.NewUploadPath().",
                nameof(rebuiltFile));
        try
        {
            if (!BackupFileName.IsValid(filename)) throw new BackupException(BackupErrorKind.InvalidInput,
                $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
            using var own = _lock.AcquireUnless(lease, "fetch", requestedBy);
            DateTimeOffset createdAt;
            using (var archive = BackupArchiveReader.Open(temp, filename))
            {
                await archive.VerifyAsync(null, cancellationToken).ConfigureAwait(false);
                createdAt = archive.Manifest.CreatedAt;
            }
            var existing = Path.Combine(_store.Directory, filename);
            if (File.Exists(existing))
            {
                if (SameBytes(existing, temp)) return _store.List().Single(b => b.Filename == filename);
                throw new BackupException(BackupErrorKind.AlreadyExists,
                    $"A different backup named {filename} is already in the backup folder; nothing was replaced. Move "
                        + $"it aside if you want the copy from the destination.");
            }
            if (BackupFileName.For(createdAt) != filename)
                throw new BackupException(BackupErrorKind.Damaged,
                    $"The copy of {filename} says it was made at {createdAt:u}, which does not match its name; it was "
                    + $"not added.");
            var committed = Commit(temp, createdAt);
            _logger.LogInformation("Added {Backup}, fetched back from an off-site copy, for {User}", committed,
                requestedBy);
            return _store.List().Single(b => b.Filename == committed);
        }
        catch (IOException e)
        {
            throw new BackupException(BackupErrorKind.Environment,
                $"The copy of {filename} was not stored: {DescribeIo(e)}", e);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private static bool SameBytes(string a, string b)
    {
        using var x = File.OpenRead(a);
        using var y = File.OpenRead(b);
        return x.Length == y.Length
            && System.Security.Cryptography.SHA256.HashData(x).AsSpan()
            .SequenceEqual(System.Security.Cryptography.SHA256.HashData(y));
    }
}
