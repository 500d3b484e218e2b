using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>What a destination holds: its readable catalogs by backup filename, every object listed, and in
/// <see cref="Known"/> the objects present with the size a catalog recorded.</summary>
internal sealed record RemoteView(Dictionary<string, BackupCatalog> Catalogs, Dictionary<string,
    RemoteObject> Objects, Dictionary<string, StoredObject> Known)
{
    /// <summary>Lists the destination and reads its catalogs; an unreadable catalog is logged and left out.</summary>
    public static async Task<RemoteView> ReadAsync(string name, IDestinationStorage storage, ILogger logger,
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
                logger.LogWarning(
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

    /// <summary>The whole of a small object (a catalog), refused past <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]> ReadAllAsync(IDestinationStorage storage, string key, long limit,
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
}
