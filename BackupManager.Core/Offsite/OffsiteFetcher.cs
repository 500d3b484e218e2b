using BackupManager.Core.Locking;
using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.IO;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Reads back from a destination: what it holds, and a backup rebuilt byte for byte from its objects (read up to
/// <see cref="DestinationOptions.Parallel"/> at once, <see cref="ObjectReadAhead"/>) and handed to intake
/// (<see cref="IBackupService.AddExactCopyAsync"/>), which verifies and commits it, or to a restore
/// (<see cref="IBackupService.RestoreExactCopyAsync"/>), which verifies it while it stages and commits it before the
/// swap. After an encrypted fetch the installation adopts the destination's naming key.
/// </summary>
internal sealed class OffsiteFetcher(OffsiteContext context, IBackupService backups)
{
    /// <summary>The backups a destination holds, newest first, with the fields of the local list.</summary>
    public async Task<IReadOnlyList<BackupInfo>> ListAsync(string destination,
        CancellationToken cancellationToken = default)
    {
        var (name, options) = context.Destination(destination);
        try
        {
            await using var storage = context.Open(name, options);
            var remote = await RemoteView.ReadAsync(name, storage, context.Logger,
                cancellationToken).ConfigureAwait(false);
            return remote.Catalogs.Values.Select(c => c.ToBackupInfo()).OrderByDescending(b => b.CreatedAt).ToList();
        }
        catch (DestinationException e) { throw new BackupException(BackupErrorKind.Destination, e.Message, e); }
    }

    /// <summary>
    /// Fetches <paramref name="filename"/> from <paramref name="destination"/>, decrypts it with
    /// <paramref name="identities"/> (held only for this call), rebuilds the original zip byte for byte (every
    /// object's SHA-256 and the whole archive's checked), adds it to the backup folder after a full verify, and
    /// returns it. The installation then adopts the destination's naming key, so later copies reuse what is there.
    /// </summary>
    public Task<BackupInfo> FetchAsync(string destination, string filename, IReadOnlyList<AgeIdentity> identities,
        string requestedBy,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default,
        BackupOperationLock.Lease? lease = null) =>
        FetchIntoAsync(destination, filename, identities, rebuilt => backups.AddExactCopyAsync(filename, rebuilt,
            requestedBy, lease, cancellationToken), progress, cancellationToken);

    /// <summary>
    /// Fetches <paramref name="request"/>'s backup as <see cref="FetchAsync"/> does, then restores it straight from
    /// the rebuilt copy (<see cref="IBackupService.RestoreExactCopyAsync"/>): the archive is read once more, by the
    /// restore, which verifies every entry while it stages and adds the copy to the backup folder before the swap.
    /// </summary>
    public Task<RestoreResult> FetchAndRestoreAsync(string destination, IReadOnlyList<AgeIdentity> identities,
        RestoreBackupRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default, Action? fetched = null) =>
        FetchIntoAsync(destination, request.Filename, identities, rebuilt =>
        {
            Restore.FaultInjection.PauseAt(Restore.FaultInjection.Fetched);
            fetched?.Invoke();
            progress?.Report(new BackupProgress("restore", $"Fetched {request.Filename}; restoring it, every entry "
                + "verified as it is staged"));
            return backups.RestoreExactCopyAsync(rebuilt, request, progress, cancellationToken);
        }, progress, cancellationToken);

    /// <summary>Rebuilds <paramref name="filename"/> into the backup folder's intake area and hands it to
    /// <paramref name="takeIn"/>, which owns it from then on; adopts the naming key once that succeeded.</summary>
    private async Task<T> FetchIntoAsync<T>(string destination, string filename, IReadOnlyList<AgeIdentity> identities,
        Func<string, Task<T>> takeIn, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var (name, options) = context.Destination(destination);
        if (!BackupFileName.IsValid(filename)) throw new BackupException(BackupErrorKind.InvalidInput,
            $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
        string rebuilt;
        (BackupCatalog Catalog, string Key)? namingKey;
        try
        {
            await using var storage = context.Open(name, options);
            var catalog = await ReadCatalogAsync(storage, name, filename, cancellationToken).ConfigureAwait(false);
            if (catalog.Encrypted && identities.Count == 0)
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{filename} at {name} is encrypted: give the age identity (the AGE-SECRET-KEY-1… file) of one "
                    + $"of its recipients: {string.Join(", ", catalog.Recipients)}.");
            progress?.Report(new BackupProgress("fetch", $"Reading the index of {filename} from {name}"));
            ArchiveIndex index;
            await using (var indexStream = await OpenObjectAsync(storage, catalog.Index.Key, catalog.Encrypted,
                identities, filename, cancellationToken).ConfigureAwait(false))
                index = OffsiteFormat.DecodeIndex(indexStream, filename);
            if (index.Filename != filename) throw new BackupException(BackupErrorKind.Damaged,
                $"The index of {filename} at {name} describes {index.Filename}; it was not used.");

            // Rebuilt into the backup folder's intake area, then handed over: listed only once verified.
            rebuilt = context.Store.NewUploadPath();
            try
            {
                await RebuildAsync(storage, name, catalog, index, identities, rebuilt, options.Parallel, progress,
                    cancellationToken).ConfigureAwait(false);
                // The read-ahead's up to 64 MiB go back to the system before a restore adds its own (peak RSS).
                PhaseMemory.Release();
            }
            catch
            {
                File.Delete(rebuilt);
                throw;
            }
            // Read now, kept only once the copy passed: the connection is not held open through a restore.
            namingKey = catalog.Encrypted ? await ReadNamingKeyAsync(storage, catalog, identities,
                cancellationToken).ConfigureAwait(false) : null;
        }
        catch (DestinationException e) { throw new BackupException(BackupErrorKind.Destination, e.Message, e); }
        var result = await takeIn(rebuilt).ConfigureAwait(false);
        if (namingKey is { } adopted) AdoptNamingKey(adopted.Catalog, adopted.Key);
        return result;
    }

    private static async Task<BackupCatalog> ReadCatalogAsync(IDestinationStorage storage, string name,
        string filename, CancellationToken cancellationToken)
    {
        byte[] catalogBytes;
        try { catalogBytes = await RemoteView.ReadAllAsync(storage, OffsiteFormat.CatalogKey(filename), 64L << 20,
            cancellationToken).ConfigureAwait(false); }
        catch (DestinationException e) when (e.Message.Contains("is missing", StringComparison.Ordinal))
        {
            throw new BackupException(BackupErrorKind.NotFound,
                $"{name} holds no backup named {filename}. List what it holds with app:list-backups --destination "
                + $"{name}.", e);
        }
        return OffsiteFormat.ParseCatalog(catalogBytes)
            ?? throw new BackupException(BackupErrorKind.Damaged,
                $"The catalog of {filename} at {name} is damaged. Restore another backup and run "
                + $"app:check-destination {name}.");
    }

    /// <summary>Writes the original zip of <paramref name="catalog"/> into <paramref name="path"/> from its
    /// objects, read up to <paramref name="parallel"/> at once and written in order; each object's length and SHA-256
    /// are checked before it is written, the whole archive's at the end; flushed to disk before it returns.</summary>
    private static async Task RebuildAsync(IDestinationStorage storage, string name, BackupCatalog catalog,
        ArchiveIndex index, IReadOnlyList<AgeIdentity> identities, string path, int parallel,
        IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var filename = index.Filename;
        await using var output = new FileStream(path,
            PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 1 << 20));
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var ahead = new ObjectReadAhead(index.Segments, parallel,
            (segment, token) => OpenObjectAsync(storage, segment.Object!, catalog.Encrypted, identities, filename,
                token),
            (segment, e) => new BackupException(BackupErrorKind.Damaged,
                $"The object {segment.Object} at {name}, part of {filename}, is damaged ({e.Message}). Run "
                + $"app:check-destination {name}, and restore another backup.", e), ct);
        long written = 0;
        foreach (var segment in index.Segments)
        {
            progress?.Report(new BackupProgress("fetch", $"Fetching {filename} from {name}",
                index.Size == 0 ? null : (double)written / index.Size));
            using var fetched = await ahead.NextAsync(ct).ConfigureAwait(false);
            if (segment.Inline is null && (fetched.Length != segment.Length || fetched.Sha256 != segment.Sha256))
                throw new BackupException(BackupErrorKind.Damaged,
                    $"The object {segment.Object} at {name}, part of {filename}, does not hold what was "
                    + $"uploaded (size or SHA-256 differ). Run app:check-destination {name}, and restore "
                    + $"another backup.");
            foreach (var part in fetched.Parts)
            {
                whole.AppendData(part.Span);
                await output.WriteAsync(part, ct).ConfigureAwait(false);
            }
            written += fetched.Length;
        }
        if (Convert.ToHexStringLower(whole.GetHashAndReset()) != index.Sha256)
            throw new BackupException(BackupErrorKind.Damaged,
                $"{filename} rebuilt from {name} does not match the SHA-256 recorded at upload; it was not "
                + $"added.");
        output.Flush(flushToDisk: true);
    }

    private static async Task<Stream> OpenObjectAsync(IDestinationStorage storage, string key, bool encrypted,
        IReadOnlyList<AgeIdentity> identities, string filename, CancellationToken cancellationToken)
    {
        var stream = await storage.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        if (!encrypted) return stream;
        try { return AgeFormat.Decrypt(stream, identities); }
        catch (AgeException e)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw e.Failure == AgeFailure.NoMatch
                ? new BackupException(BackupErrorKind.InvalidInput,
                    $"The identity given cannot decrypt {filename}: it was encrypted to other recipients. Use the "
                    + $"identity of one of the keys in Backup__Encryption__Recipients (or the escrow key).", e)
                : new BackupException(BackupErrorKind.Damaged,
                    $"{key}, part of {filename}, is damaged ({e.Message}). Run app:check-destination, and restore "
                    + $"another backup.", e);
        }
    }

    /// <summary>The destination's naming key when this installation does not hold it yet and it is sound; null
    /// otherwise (a failure to read it only costs the next copy a full upload).</summary>
    private async Task<(BackupCatalog, string)?> ReadNamingKeyAsync(IDestinationStorage storage,
        BackupCatalog catalog, IReadOnlyList<AgeIdentity> identities, CancellationToken cancellationToken)
    {
        if (File.Exists(context.NamingKeyPath) && OffsiteFormat.NamingKeyId(context.NamingKey()) == catalog.NamingKeyId)
            return null;
        try
        {
            await using var stream = await OpenObjectAsync(storage, OffsiteFormat.NamingKeyKey(catalog.NamingKeyId),
                true, identities, catalog.Filename, cancellationToken).ConfigureAwait(false);
            var text = new StreamReader(stream).ReadToEnd().Trim();
            if (Convert.FromHexString(text) is not { Length: 32 } key
                || OffsiteFormat.NamingKeyId(key) != catalog.NamingKeyId) return null;
            return (catalog, text);
        }
        catch (Exception e) when (e is BackupException or DestinationException or FormatException)
        {
            context.Logger.LogWarning(
                "The naming key {KeyId} could not be adopted ({Message}); the next copy sends everything once more",
                catalog.NamingKeyId, e.Message);
            return null;
        }
    }

    /// <summary>Saves the destination's naming key. It runs after a restore may already have swapped: a failure only
    /// costs the next copy a full upload, so it is logged, never thrown.</summary>
    private void AdoptNamingKey(BackupCatalog catalog, string text)
    {
        try { AtomicFile.WriteAllBytes(context.NamingKeyPath, Encoding.ASCII.GetBytes(text)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            context.Logger.LogWarning(
                "The naming key {KeyId} could not be saved at {Path} ({Message}); the next copy sends everything once "
                + "more. Check that the backup folder is writable", catalog.NamingKeyId, context.NamingKeyPath,
                e.Message);
            return;
        }
        context.Logger.LogInformation(
            "Adopted the naming key of the off-site copies ({KeyId}): later copies reuse what the destinations "
            + "hold", catalog.NamingKeyId);
    }
}
