using BackupManager.Core.Archive;
using BackupManager.Core.IO;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// Archives that come from outside: an upload, and an exact copy fetched back from an off-site destination. Both are
/// an <see cref="IntakeFile"/> in the folder's intake area and go through one path, <see cref="TakeInAsync"/>:
/// verified in full under the lease, checked, committed by rename, or deleted.
/// </summary>
internal sealed class BackupIntake(IBackupStore store, TimeProvider time, IReadOnlyList<FileRoot> roots,
    BackupFolderChanges changes, ILogger logger)
{
    /// <summary>How far in the future an upload's date may be (clocks of two machines differ a little).</summary>
    internal static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>A new intake file for an upload, owned by the caller until it is taken in.</summary>
    public IntakeFile NewUpload() => new(store.NewUploadPath(), null);

    /// <summary>
    /// Takes over <paramref name="rebuiltFile"/> as the exact copy of <paramref name="filename"/>. Only a file in the
    /// backup folder's own intake area may be committed (a rename, never a copy); that is checked before taking
    /// ownership, so a wrong path is never deleted. A name that is not a backup name is refused (and the file deleted).
    /// </summary>
    public IntakeFile TakeOver(string rebuiltFile, string filename)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(rebuiltFile))
            != Path.TrimEndingDirectorySeparator(Path.GetFullPath(store.Directory))
            || !Path.GetFileName(rebuiltFile).StartsWith(BackupFolderStore.UploadPrefix, StringComparison.Ordinal))
            throw new ArgumentException("The rebuilt file must come from IBackupStore.NewUploadPath().",
                nameof(rebuiltFile));
        var copy = new IntakeFile(rebuiltFile, filename);
        if (BackupFileName.IsValid(filename)) return copy;
        copy.Dispose();
        throw new BackupException(BackupErrorKind.InvalidInput,
            $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
    }

    /// <summary>Streams an upload into its intake file, at most <paramref name="maxBytes"/>, and flushes it.</summary>
    public async Task ReceiveAsync(IntakeFile upload, Stream content, long maxBytes,
        CancellationToken cancellationToken)
    {
        await using var output = new FileStream(upload.Path,
            PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: BackupArchiveWriter.BufferSize));
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

    /// <summary>
    /// The one way an archive from outside enters the folder: verified in full, checked (an upload: space to restore
    /// it, a date not in the future, a name not taken; an exact copy: a name that matches its signed date, or the same
    /// bytes already there), then committed by rename. The caller disposes <paramref name="file"/> whatever happens.
    /// </summary>
    public async Task<BackupInfo> TakeInAsync(IntakeFile file, string requestedBy, BackupOperationLock.Lease lease,
        CancellationToken cancellationToken)
    {
        lease.EnsureHeld();
        DateTimeOffset createdAt;
        ArchiveSummary? uploadSummary = null;
        using (var archive = BackupArchiveReader.Open(file.Path, file.Described))
        {
            // Declared sizes against the disks the files would be restored to, before inflating anything.
            if (file.IsUpload) RestoreSpaceCheck.Ensure(file.Described, archive.Manifest,
                new RestorePlan(false, [.. roots.Select(r => (r.Name, r))]), upload: true);
            await archive.VerifyAsync(null, cancellationToken).ConfigureAwait(false);
            createdAt = archive.Manifest.CreatedAt;
            if (file.IsUpload) uploadSummary = CheckUpload(file.Path, archive.Manifest);
        }
        if (AlreadyThere(file, createdAt) is { } same) return same;
        if (uploadSummary is not null) ArchiveSummary.RewriteInFile(file.Path,
            uploadSummary with { Trigger = BackupTrigger.Upload, RequestedBy = requestedBy });
        var committed = changes.Commit(file.Path, createdAt);
        if (file.IsUpload)
            logger.LogInformation("Imported uploaded backup {Backup} for {User}", committed, requestedBy);
        else logger.LogInformation("Added {Backup}, fetched back from an off-site copy, for {User}", committed,
            requestedBy);
        return store.List().Single(b => b.Filename == committed);
    }

    /// <summary>
    /// What <see cref="TakeInAsync"/> checks of an exact copy before its commit, except reading its entries: its
    /// structure (<see cref="BackupArchiveReader.Open"/>), its name against its signed date, a backup of that name
    /// already there. Returns the date to commit it under, or null when the same bytes are already in the folder. For a
    /// restore that verifies every entry while it stages and commits with <see cref="CommitVerified"/> before the swap.
    /// </summary>
    public DateTimeOffset? CheckExactCopy(IntakeFile file, BackupOperationLock.Lease lease)
    {
        lease.EnsureHeld();
        DateTimeOffset createdAt;
        using (var archive = BackupArchiveReader.Open(file.Path, file.Described))
            createdAt = archive.Manifest.CreatedAt;
        return AlreadyThere(file, createdAt) is null ? createdAt : null;
    }

    /// <summary>Commits an exact copy that <see cref="CheckExactCopy"/> passed and whose every entry a restore has just
    /// verified.</summary>
    public string CommitVerified(IntakeFile file, DateTimeOffset createdAt, string requestedBy)
    {
        var committed = changes.Commit(file.Path, createdAt);
        logger.LogInformation("Added {Backup}, fetched back from an off-site copy and verified as it was restored, "
            + "for {User}", committed, requestedBy);
        return committed;
    }

    /// <summary>The backup already in the folder under <paramref name="file"/>'s name with the same bytes; null when
    /// the name is free. Anything else is refused: a name taken, or an exact copy dated otherwise than its name.
    /// </summary>
    private BackupInfo? AlreadyThere(IntakeFile file, DateTimeOffset createdAt)
    {
        var filename = file.ExactName ?? BackupFileName.For(createdAt);
        var existing = Path.Combine(store.Directory, filename);
        if (File.Exists(existing))
        {
            if (file.IsUpload) throw new BackupException(BackupErrorKind.AlreadyExists,
                $"A backup named {filename} already exists; this upload is probably the same backup.");
            if (SameBytes(existing, file.Path)) return store.List().Single(b => b.Filename == filename);
            throw new BackupException(BackupErrorKind.AlreadyExists,
                $"A different backup named {filename} is already in the backup folder; nothing was replaced. Move "
                    + $"it aside if you want the copy from the destination.");
        }
        if (BackupFileName.For(createdAt) != filename)
            throw new BackupException(BackupErrorKind.Damaged,
                $"The copy of {filename} says it was made at {createdAt:u}, which does not match its name; it was "
                + $"not added.");
        return null;
    }

    /// <summary>An I/O failure while <paramref name="file"/> was taken in, as a person reads it.</summary>
    public BackupException NotStored(IntakeFile file, IOException e) =>
        new(BackupErrorKind.Environment, $"{file.Subject} was not stored: {changes.DescribeIo(e)}", e);

    /// <summary>Refuses an upload dated in the future; returns its summary re-derived from the verified manifest.
    /// </summary>
    private ArchiveSummary CheckUpload(string path, BackupManifest manifest)
    {
        var createdAt = manifest.CreatedAt;
        // A future date would make it "newest" for years: health would trust it and retention keep it above real
        // backups.
        if (createdAt > time.GetUtcNow() + MaxClockSkew)
            throw new BackupException(BackupErrorKind.Refused,
                $"The uploaded backup says it was made at {createdAt:u}, which is in the future (this "
                    + $"server's time is {time.GetUtcNow():u}), so it was not accepted. "
                + "If the machine that made it has a wrong clock, fix that clock; if this server's clock is "
                    + "wrong, fix this one, then upload again.");
        // The zip comment is covered by no signature: what listing, health and retention read is re-derived from the
        // verified manifest.
        return ArchiveSummary.ReadFromFile(path)! with
        {
            CreatedAt = createdAt, Contains = manifest.Contains, Warnings = manifest.Warnings.Count,
        };
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
