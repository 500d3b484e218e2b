using System.Text.Json;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Locking;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Pitr;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>
/// A point-in-time restore from a destination (a new server with only the configuration and the identity): checks
/// the time against the window the destination holds, fetches and decrypts the base backup and the WAL it needs into
/// a staging <see cref="PitrLayout"/>, and runs the normal <see cref="PointInTimeRecovery"/> over it. The files come
/// from the newest backup with files made at or before the time (fetched from the destination when it is not here);
/// without one only the database is restored, and the result says so. The staging folder is removed afterwards.
/// </summary>
public sealed class OffsitePointInTime(OffsiteService offsite, PitrSource source, ExternalProcessRunner runner,
    IBackupStore store, IBackupService backups, BackupOperationLock operationLock, TimeProvider time,
    ILoggerFactory loggers, ArchiveSigner? signer = null, BackupCommitted? committed = null,
    PostgresTarget? live = null)
{
    /// <summary>The base backups and WAL <paramref name="destination"/> holds (reads only the listing and the small
    /// plaintext records).</summary>
    public async Task<PitrOffsiteWindow> ReadWindowAsync(string destination, CancellationToken cancellationToken)
    {
        var (name, options) = offsite.Context.Destination(destination);
        await using var storage = offsite.Context.Open(name, options);
        return await ReadWindowAsync(storage, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The base backup <paramref name="target"/> starts from; an InvalidInput <see cref="BackupException"/>
    /// naming the window the destination holds otherwise.</summary>
    public static BaseBackupRecord Choose(PitrOffsiteWindow window, DateTimeOffset target, string destination)
    {
        if (window.From is not { } from || window.To is not { } to || target < from || target > to)
            throw new BackupException(BackupErrorKind.InvalidInput,
                $"{destination} holds no base backup and WAL covering {target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z: its "
                + $"point-in-time window is {window.Describe()}. Choose a time inside it, or restore a backup "
                + "(app:list-backups --destination). Nothing was changed.");
        return window.Bases.Last(b => b.EndedAt <= target);
    }

    /// <summary>Fetches what <paramref name="target"/> needs from <paramref name="destination"/> and restores it
    /// through <see cref="PointInTimeRecovery.RestoreAsync"/>.</summary>
    public async Task<OffsitePointInTimeResult> RestoreAsync(string destination, IReadOnlyList<AgeIdentity> identities,
        DateTimeOffset target, BackupScope scope, string requestedBy, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        var (name, options) = offsite.Context.Destination(destination);
        await using var storage = offsite.Context.Open(name, options);
        var window = await ReadWindowAsync(storage, cancellationToken).ConfigureAwait(false);
        var chosen = Choose(window, target, name); // before anything is fetched or changed
        // Held from the first fetch: start-up recovery (under the lock) removes a staging folder only when no restore
        // runs.
        using var lease = operationLock.Acquire("restore", requestedBy);
        string? note = null;
        if (scope == BackupScope.Full && source.Options.Paths.Count > 0)
            (scope, note) = await FilesAsync(name, identities, target, requestedBy, lease, progress,
                cancellationToken).ConfigureAwait(false);
        var staging = source.Layout.NewTemp(PitrLayout.OffsiteRestorePurpose);
        try
        {
            var layout = new PitrLayout(staging);
            layout.EnsureFolders();
            progress?.Report(new BackupProgress("restore", $"Fetching base backup {chosen.Name} from {name}"));
            try
            {
                await using (var tar = await OpenAsync(storage, name, PitrOffsiteFormat.BaseKey(chosen.Name,
                    window.Encrypted), identities, cancellationToken).ConfigureAwait(false))
                    await BaseBackupTar.UnpackAsync(tar, Path.Combine(layout.Base, chosen.Name), cancellationToken)
                        .ConfigureAwait(false);
                progress?.Report(new BackupProgress("restore", $"Fetching the WAL after {chosen.Name} from {name}"));
                await FetchWalAsync(storage, name, window, chosen, layout, identities, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is AgeException or InvalidDataException)
            {
                throw new BackupException(BackupErrorKind.Damaged, $"What {name} holds for base backup {chosen.Name} "
                    + $"cannot be read ({e.Message}). Nothing was changed; choose a time after another base backup, "
                    + "or restore a backup.", e);
            }
            var staged = new PitrSource(source.Options, source.Target?.ConnectionString, layout);
            var recovery = new PointInTimeRecovery(staged, new PitrStatusReader(staged, time), runner, store,
                backups, operationLock, time, loggers, signer, committed, live);
            var (archive, result) = await recovery.RestoreAsync(target, scope, requestedBy, progress,
                cancellationToken, lease).ConfigureAwait(false);
            return new OffsitePointInTimeResult(archive, result, note);
        }
        finally { BaseBackup.TryDeleteFolder(staging); }
    }

    /// <summary>The scope to restore and a note: a backup with files at or before the time, here or fetched from the
    /// destination, or the database only.</summary>
    private async Task<(BackupScope, string?)> FilesAsync(string name, IReadOnlyList<AgeIdentity> identities,
        DateTimeOffset target, string requestedBy, BackupOperationLock.Lease lease,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        if (store.List().Any(b => b.Readable && b.HasFiles && b.CreatedAt <= target)) return (BackupScope.Full, null);
        var there = (await offsite.ListAsync(name, cancellationToken).ConfigureAwait(false))
            .Where(b => b.HasFiles && b.CreatedAt <= target).MaxBy(b => b.CreatedAt);
        if (there is null)
            return (BackupScope.DatabaseOnly, $"No backup with files was made at or before "
                + $"{target.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z (here or at {name}), so only the database was restored.");
        var fetched = await offsite.FetchAsync(name, there.Filename, identities, requestedBy, progress,
            cancellationToken, lease).ConfigureAwait(false);
        return (BackupScope.Full, $"The files come from {fetched.Filename}, fetched from {name}.");
    }

    private static async Task<PitrOffsiteWindow> ReadWindowAsync(IDestinationStorage storage,
        CancellationToken cancellationToken)
    {
        var objects = await storage.ListAsync(PitrOffsiteFormat.Prefix, cancellationToken).ConfigureAwait(false);
        var keys = objects.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var bases = new List<BaseBackupRecord>();
        foreach (var o in objects)
        {
            if (PitrOffsiteFormat.NameOfRecord(o.Key) is not { } baseName
                || !(keys.Contains(PitrOffsiteFormat.BaseKey(baseName, true))
                    || keys.Contains(PitrOffsiteFormat.BaseKey(baseName, false)))) continue;
            var json = await RemoteView.ReadAllAsync(storage, o.Key, 1 << 20, cancellationToken).ConfigureAwait(false);
            try
            {
                if (JsonSerializer.Deserialize<BaseBackupRecord>(json, BackupJson.Options) is { } record)
                    bases.Add(record with { Folder = baseName });
            }
            catch (JsonException) { /* a damaged record: that base backup is not used */ }
        }
        bases.Sort((a, b) => a.StartedAt.CompareTo(b.StartedAt));
        var bytes = bases.Count > 0 ? bases[^1].WalSegmentBytes : 16L << 20;
        var wal = objects.Where(o => PitrOffsiteFormat.SegmentOf(o.Key, bytes) is not null).ToList();
        var encrypted = keys.Any(PitrOffsiteFormat.IsEncrypted);
        if (bases.Count == 0) return new PitrOffsiteWindow(bases, wal, null, null, encrypted);
        var newest = wal.Select(o => o.Modified ?? DateTimeOffset.MinValue).DefaultIfEmpty(DateTimeOffset.MinValue)
            .Max();
        return new PitrOffsiteWindow(bases, wal, bases[0].EndedAt, newest > bases[^1].EndedAt
            ? newest : bases[^1].EndedAt, encrypted);
    }

    /// <summary>Every segment from the base backup's start on its timeline (a .partial one only when its completed
    /// copy is not there), with its upload time as the file's time (the window's end).</summary>
    private static async Task FetchWalAsync(IDestinationStorage storage, string name, PitrOffsiteWindow window,
        BaseBackupRecord chosen, PitrLayout layout, IReadOnlyList<AgeIdentity> identities,
        CancellationToken cancellationToken)
    {
        var bytes = chosen.WalSegmentBytes;
        var start = WalSegment.NumberOf(chosen.StartLsn, bytes);
        var segments = window.Wal.Select(o => (Object: o, Segment: PitrOffsiteFormat.SegmentOf(o.Key, bytes)!))
            .Where(x => x.Segment.Timeline == chosen.Timeline && x.Segment.Number >= start).ToList();
        var complete = segments.Where(x => !x.Segment.Partial).Select(x => x.Segment.Number).ToHashSet();
        foreach (var (o, segment) in segments.Where(x => !x.Segment.Partial || !complete.Contains(x.Segment.Number)))
        {
            var path = Path.Combine(layout.Wal, segment.Path);
            await using (var content = await OpenAsync(storage, name, o.Key, identities, cancellationToken)
                .ConfigureAwait(false))
            await using (var file = new FileStream(path, IO.PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write)))
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(path, (o.Modified ?? DateTimeOffset.UtcNow).UtcDateTime);
        }
    }

    private static async Task<Stream> OpenAsync(IDestinationStorage storage, string name, string key,
        IReadOnlyList<AgeIdentity> identities, CancellationToken cancellationToken)
    {
        var raw = await storage.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        if (!PitrOffsiteFormat.IsEncrypted(key)) return raw;
        try { return AgeFormat.Decrypt(raw, identities); }
        catch (AgeException e)
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw e.Failure == AgeFailure.NoMatch
                ? new BackupException(BackupErrorKind.InvalidInput, $"The identity given cannot decrypt {key} at "
                    + $"{name}: it was encrypted to other recipients. Use the identity of one of the keys in "
                    + "Backup__Encryption__Recipients (or the escrow key). Nothing was changed.", e)
                : new BackupException(BackupErrorKind.Damaged, $"{key} at {name} is damaged ({e.Message}). Nothing "
                    + "was changed.", e);
        }
    }
}
