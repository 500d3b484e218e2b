using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.IO;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

public sealed partial class OffsiteService
{
    private sealed record RemoteView(Dictionary<string, BackupCatalog> Catalogs, Dictionary<string,
        RemoteObject> Objects, Dictionary<string, StoredObject> Known);

    /// <summary>Lists the destination and reads its catalogs; <see cref="RemoteView.Known"/> holds the objects present
    /// with the size a catalog recorded.</summary>
    private async Task<RemoteView> ReadRemoteAsync(string name, IDestinationStorage storage,
        CancellationToken cancellationToken)
    {
        var objects = (await storage.ListAsync("", cancellationToken).ConfigureAwait(false)).ToDictionary(o => o.Key,
            StringComparer.Ordinal);
        var catalogs = new Dictionary<string, BackupCatalog>(StringComparer.Ordinal);
        foreach (var key in objects.Keys.Where(k => OffsiteFormat.FilenameOfCatalog(k) is not null))
        {
            var filename = OffsiteFormat.FilenameOfCatalog(key)!;
            if (!BackupFileName.IsValid(filename)) continue;
            var catalog = OffsiteFormat.ParseCatalog(await ReadAllAsync(storage, key, 64L << 20,
                cancellationToken).ConfigureAwait(false));
            if (catalog is null || catalog.Filename != filename)
            {
                _logger.LogWarning(
                    "{Destination}: the catalog {Key} is unreadable; it is ignored (app:check-destination reports it)",
                    name, key);
                continue;
            }
            catalogs[filename] = catalog;
        }
        var known = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        foreach (var o in catalogs.Values.SelectMany(c => c.Objects))
            if (objects.TryGetValue(o.Key, out var present) && present.Size == o.Size) known.TryAdd(o.Key, o);
        return new RemoteView(catalogs, objects, known);
    }

    private static async Task<byte[]> ReadAllAsync(IDestinationStorage storage, string key, long limit,
        CancellationToken cancellationToken)
    {
        await using var stream = await storage.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit) throw new DestinationException(
                $"{key} is larger than expected ({limit:N0} bytes); it is not read.");
        }
        return buffer.ToArray();
    }

    private async Task<IReadOnlyList<string>> ApplyRetentionAsync(string name, IDestinationStorage storage,
        DestinationOptions options, RemoteView remote, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var kept = OffsiteRetention.Kept(remote.Catalogs.Values.Select(c => c.ToBackupInfo()), options,
            _options.KeepSafetyDays, _time.GetUtcNow());
        foreach (var filename in remote.Catalogs.Keys.Where(f => !kept.ContainsKey(f)).ToList())
        {
            // The catalog goes first: from then on the backup is not listed, and its objects are unreferenced.
            await storage.DeleteAsync(OffsiteFormat.CatalogKey(filename), cancellationToken).ConfigureAwait(false);
            await storage.DeleteAsync(OffsiteFormat.IndexKey(filename), cancellationToken).ConfigureAwait(false);
            remote.Catalogs.Remove(filename);
            removed.Add(filename);
            _logger.LogInformation("Removed {Backup} from {Destination}: older than its retention keeps", filename,
                name);
        }
        await SweepAsync(storage, remote, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Mark and sweep: deletes objects and indexes no catalog references that are older than <see
    /// cref="SweepGrace"/>.</summary>
    private async Task SweepAsync(IDestinationStorage storage, RemoteView remote, CancellationToken cancellationToken)
    {
        var live = remote.Catalogs.Values.SelectMany(c =>
            c.Objects.Select(o => o.Key).Append(c.Index.Key)).ToHashSet(StringComparer.Ordinal);
        live.UnionWith(remote.Catalogs.Keys.Select(OffsiteFormat.CatalogKey));
        var now = _time.GetUtcNow();
        foreach (var o in remote.Objects.Values)
        {
            var sweepable = o.Key.StartsWith(OffsiteFormat.DataPrefix,
                StringComparison.Ordinal) || o.Key.StartsWith(OffsiteFormat.BackupsPrefix, StringComparison.Ordinal);
            if (!sweepable || live.Contains(o.Key) || o.Modified is not { } modified
                || now - modified < SweepGrace) continue;
            await storage.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
            remote.Known.Remove(o.Key);
        }
        await storage.RemoveLeftoversAsync(SweepGrace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Serialises copy, check and sweep of one destination across processes (advisory lock on a file in the
    /// backup folder).</summary>
    private IDisposable DestinationLock(string name)
    {
        var path = Path.Combine(_store.Directory, $".offsite-{name.ToLowerInvariant()}.lock");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try { return new FileStream(path,
                PrivateFiles.Create(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(250); }
            catch (IOException e)
            {
                throw new BackupException(BackupErrorKind.Busy,
                    $"Another process is copying to or checking {name}. Try again when it has finished.", e);
            }
        }
    }
}
