using BackupManager.Core.Offsite.Destinations;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Retention at a destination: removes the catalogs (then indexes) of backups its retention no longer keeps, then
/// sweeps objects no catalog references that are older than <see cref="SweepGrace"/> (an upload in progress elsewhere
/// references its objects only once its catalog is written). <c>NeverDelete</c> destinations are left alone. Runs
/// under the destination's lock, held by the caller.
/// </summary>
internal sealed class OffsiteSweeper(OffsiteContext context)
{
    internal static readonly TimeSpan SweepGrace = TimeSpan.FromDays(1);

    /// <summary>Applies the retention of destination <paramref name="name"/> to what <paramref name="remote"/> shows
    /// and sweeps; returns the backups removed (none for a <c>NeverDelete</c> destination).</summary>
    public async Task<IReadOnlyList<string>> ApplyRetentionAsync(string name, IDestinationStorage storage,
        DestinationOptions options, RemoteView remote, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        if (options.NeverDelete) return removed;
        var kept = OffsiteRetention.Kept(remote.Catalogs.Values.Select(c => c.ToBackupInfo()), options,
            context.Options.KeepSafetyDays, context.Time.GetUtcNow());
        foreach (var filename in remote.Catalogs.Keys.Where(f => !kept.ContainsKey(f)).ToList())
        {
            // The catalog goes first: from then on the backup is not listed, and its objects are unreferenced.
            await storage.DeleteAsync(OffsiteFormat.CatalogKey(filename), cancellationToken).ConfigureAwait(false);
            await storage.DeleteAsync(OffsiteFormat.IndexKey(filename), cancellationToken).ConfigureAwait(false);
            remote.Catalogs.Remove(filename);
            removed.Add(filename);
            context.Logger.LogInformation("Removed {Backup} from {Destination}: older than its retention keeps",
                filename, name);
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
        var now = context.Time.GetUtcNow();
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
}
