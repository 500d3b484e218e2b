using System.Text;
using System.Text.Json;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Copies to destinations in the <see cref="OffsiteFormat"/>: each distinct piece of content once per destination,
/// objects first, then the index, then the catalog, so a backup is listed there only once all it needs is there; then
/// hands the destination to the <see cref="OffsiteSweeper"/>. A destination's failure is reported, never thrown.
/// </summary>
internal sealed class OffsiteCopier(OffsiteContext context, OffsiteSweeper sweeper)
{
    /// <summary>
    /// Copies what each destination (or only <paramref name="destination"/>) still lacks — every local backup its
    /// retention would keep, or only <paramref name="filename"/> — then applies its retention. Never throws for a
    /// destination's failure: that is in the report, the state and the log.
    /// </summary>
    public async Task<IReadOnlyList<CopyReport>> CopyPendingAsync(string? filename = null, string? destination = null,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (filename is not null) context.Store.ResolveExisting(filename);
        var names = destination is null ? context.DestinationNames : [context.Destination(destination).Name];
        var reports = new List<CopyReport>();
        foreach (var name in names) reports.Add(await CopyToAsync(name, filename, progress,
            cancellationToken).ConfigureAwait(false));
        return reports;
    }

    private async Task<CopyReport> CopyToAsync(string name, string? only, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        var options = context.Destination(name).Options;
        var copied = new List<string>();
        var removed = new List<string>();
        long sent = 0, reused = 0;
        context.State.Update(name, s => s with { LastAttemptAt = context.Time.GetUtcNow() });
        try
        {
            progress?.Report(new BackupProgress("copy", $"Reading what {name} holds"));
            using var guard = context.DestinationLock(name);
            await using var storage = context.Open(name, options);
            var remote = await RemoteView.ReadAsync(name, storage, context.Logger,
                cancellationToken).ConfigureAwait(false);
            var local = context.Store.List().Where(b => b.Readable).ToList();
            var wanted = context.Wanted(local, remote.Catalogs.Values.Select(c => c.ToBackupInfo()), options)
                .Where(b => only is null || b.Filename == only).OrderBy(b => b.CreatedAt).ToList();
            if (only is not null && wanted.Count == 0 && !remote.Catalogs.ContainsKey(only))
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{only} is older than what {name} keeps (KeepDaily/KeepWeekly/KeepMonthly), so it was not copied "
                    + $"there.");
            var namingKey = context.NamingKey();
            if (context.Encrypts(options)) await EnsureNamingKeyStoredAsync(storage, namingKey, remote,
                cancellationToken).ConfigureAwait(false);
            foreach (var backup in wanted)
            {
                progress?.Report(new BackupProgress("copy", $"Copying {backup.Filename} to {name}"));
                var (s, r, catalog) = await CopyOneAsync(storage, options, backup, namingKey, remote,
                    cancellationToken).ConfigureAwait(false);
                sent += s;
                reused += r;
                remote.Catalogs[backup.Filename] = catalog;
                copied.Add(backup.Filename);
                context.State.Update(name,
                    st => st with { Held = remote.Catalogs.Keys.Order(StringComparer.Ordinal).ToList() });
                context.Logger.LogInformation(
                    "Copied {Backup} to {Destination}: {Sent} bytes sent, {Reused} bytes already there",
                    backup.Filename, name, s, r);
            }
            removed.AddRange(await sweeper.ApplyRetentionAsync(name, storage, options, remote,
                cancellationToken).ConfigureAwait(false));
            context.State.Update(name, st => st with
            {
                LastSuccessAt = context.Time.GetUtcNow(), LastError = null, ConsecutiveFailures = 0,
                    LastErrorNeedsAction = false, LastBytesSent = sent,
                Held = remote.Catalogs.Keys.Order(StringComparer.Ordinal).ToList(),
            });
            return new CopyReport(name, copied, sent, reused, removed, null);
        }
        catch (Exception e) when (
            e is DestinationException or BackupException or IOException or AgeException or UnauthorizedAccessException)
        {
            var message = e switch
            {
                DestinationException or BackupException => e.Message,
                IOException io when io.HResult == 28 || io.Message.Contains("No space",
                    StringComparison.OrdinalIgnoreCase) =>
                    $"{name}: no space left ({io.Message}). Free space, then copy again.",
                _ => $"{name}: the copy failed: {e.Message}",
            };
            var needsAction = e is DestinationException { NeedsAction: true } || message.Contains("no space left",
                StringComparison.OrdinalIgnoreCase);
            var state = context.State.Update(name,
                st => st with { LastError = message, ConsecutiveFailures = st.ConsecutiveFailures + 1,
                LastErrorNeedsAction = needsAction });
            context.Logger.LogWarning("Copy to {Destination} failed ({Failures} in a row): {Message}", name,
                state.ConsecutiveFailures, message);
            return new CopyReport(name, copied, sent, reused, removed, message);
        }
    }

    private async Task<(long Sent, long Reused, BackupCatalog Catalog)> CopyOneAsync(IDestinationStorage storage,
        DestinationOptions options, BackupInfo backup, byte[] namingKey, RemoteView remote,
        CancellationToken cancellationToken)
    {
        var encrypted = context.Encrypts(options);
        var recipients = encrypted ? context.Recipients : [];
        var upload = new ArchiveUpload(storage, recipients, namingKey, remote, options.Parallel);
        var index = await upload.CopyAsync(context.Store.ResolveExisting(backup.Filename), backup.Filename,
            cancellationToken).ConfigureAwait(false);
        var indexBytes = OffsiteFormat.EncodeIndex(index);
        var indexStored = await ArchiveUpload.PutAsync(storage, OffsiteFormat.IndexKey(backup.Filename),
            new MemoryStream(indexBytes), indexBytes.Length, recipients, cancellationToken, unsynced: true)
            .ConfigureAwait(false);
        // The catalog says the backup is there: everything it names must be durable first.
        await storage.FlushAsync(cancellationToken).ConfigureAwait(false);
        var catalog = new BackupCatalog
        {
            Filename = backup.Filename, Size = backup.Size, CreatedAt = backup.CreatedAt, Trigger = backup.Trigger,
                Contains = backup.Contains,
            RequestedBy = backup.RequestedBy, Foreign = backup.Foreign, WarningCount = backup.WarningCount,
                CopiedAt = context.Time.GetUtcNow(),
            Encrypted = encrypted, Recipients = encrypted ? context.Recipients.Select(r => r.Text).ToList() : [],
                NamingKeyId = OffsiteFormat.NamingKeyId(namingKey),
            Index = indexStored, Objects = upload.Objects,
        };
        var catalogBytes = JsonSerializer.SerializeToUtf8Bytes(catalog, OffsiteFormat.Json);
        await storage.PutAsync(OffsiteFormat.CatalogKey(backup.Filename), new MemoryStream(catalogBytes),
            catalogBytes.Length, cancellationToken).ConfigureAwait(false);
        return (upload.Sent + indexStored.Size + catalogBytes.Length, upload.Reused, catalog);
    }

    private async Task EnsureNamingKeyStoredAsync(IDestinationStorage storage, byte[] namingKey, RemoteView remote,
        CancellationToken cancellationToken)
    {
        var key = OffsiteFormat.NamingKeyKey(OffsiteFormat.NamingKeyId(namingKey));
        if (remote.Objects.ContainsKey(key)) return;
        var text = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(namingKey) + "\n");
        await ArchiveUpload.PutAsync(storage, key, new MemoryStream(text), text.Length, context.Recipients,
            cancellationToken).ConfigureAwait(false);
    }
}
