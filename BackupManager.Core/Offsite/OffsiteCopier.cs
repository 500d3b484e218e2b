using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BackupManager.Core.Archive;
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
                var (s, r, catalog) = await CopyOneAsync(name, storage, options, backup, namingKey, remote,
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

    private async Task<(long Sent, long Reused, BackupCatalog Catalog)> CopyOneAsync(string name,
        IDestinationStorage storage, DestinationOptions options,
        BackupInfo backup, byte[] namingKey, RemoteView remote, CancellationToken cancellationToken)
    {
        var encrypted = context.Encrypts(options);
        long sent = 0, reused = 0;
        var path = context.Store.ResolveExisting(backup.Filename);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            1 << 20, FileOptions.SequentialScan);
        var plan = OffsiteFormat.Plan(file, backup.Filename);
        var segments = new List<IndexSegment>(plan.Count);
        var objects = new List<StoredObject>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var (offset, length, isObject) in plan)
        {
            file.Seek(offset, SeekOrigin.Begin);
            if (!isObject)
            {
                var bytes = new byte[length];
                await file.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                whole.AppendData(bytes);
                segments.Add(new IndexSegment { Inline = bytes, Length = length });
                continue;
            }
            // One pass hashes the entry's data and finds its cut points; each piece the destination lacks is then read
            // again from its start (a piece is at most 64 MiB: the page cache usually still has it) and uploaded.
            using var pieceHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var cutting = length > OffsiteFormat.MinCutBytes;
            var cutter = OffsiteFormat.NewCutter();
            long pieceStart = offset, pieceLength = 0;
            for (var left = length; left > 0;)
            {
                var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)),
                    cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new IOException($"{backup.Filename} ended early while it was being copied.");
                left -= n;
                whole.AppendData(buffer, 0, n);
                var position = 0;
                while (position < n)
                {
                    int take;
                    var cut = false;
                    if (cutting) cut = cutter.Next(buffer.AsSpan(position, n - position), out take);
                    else take = n - position;
                    pieceLength += take;
                    pieceHash.AppendData(buffer, position, take);
                    position += take;
                    var end = left == 0 && position == n;
                    if (!cut && !end) continue;
                    var (s, r) = await StorePieceAsync(storage, file, pieceStart, pieceLength,
                        pieceHash.GetHashAndReset(), namingKey, encrypted, remote, segments, objects, referenced,
                        cancellationToken).ConfigureAwait(false);
                    sent += s;
                    reused += r;
                    pieceStart += pieceLength;
                    pieceLength = 0;
                    // an upload read the piece again: continue after what is in the buffer
                    file.Seek(offset + length - left, SeekOrigin.Begin);
                }
            }
        }
        var index = new ArchiveIndex { Filename = backup.Filename, Size = file.Length,
            Sha256 = Convert.ToHexStringLower(whole.GetHashAndReset()), Segments = segments };
        var indexBytes = OffsiteFormat.EncodeIndex(index);
        var indexStored = await PutAsync(storage, OffsiteFormat.IndexKey(backup.Filename), new MemoryStream(indexBytes),
            indexBytes.Length, encrypted, cancellationToken).ConfigureAwait(false);
        sent += indexStored.Size;
        var catalog = new BackupCatalog
        {
            Filename = backup.Filename, Size = backup.Size, CreatedAt = backup.CreatedAt, Trigger = backup.Trigger,
                Contains = backup.Contains,
            RequestedBy = backup.RequestedBy, Foreign = backup.Foreign, WarningCount = backup.WarningCount,
                CopiedAt = context.Time.GetUtcNow(),
            Encrypted = encrypted, Recipients = encrypted ? context.Recipients.Select(r => r.Text).ToList() : [],
                NamingKeyId = OffsiteFormat.NamingKeyId(namingKey),
            Index = indexStored, Objects = objects,
        };
        var catalogBytes = JsonSerializer.SerializeToUtf8Bytes(catalog, OffsiteFormat.Json);
        await storage.PutAsync(OffsiteFormat.CatalogKey(backup.Filename), new MemoryStream(catalogBytes),
            catalogBytes.Length, cancellationToken).ConfigureAwait(false);
        sent += catalogBytes.Length;
        return (sent, reused, catalog);
    }

    /// <summary>Records one piece in the index; uploads it unless the destination already holds the same
    /// content.</summary>
    private async Task<(long Sent, long Reused)> StorePieceAsync(IDestinationStorage storage, FileStream file,
        long start, long length, byte[] sha, byte[] namingKey,
        bool encrypted, RemoteView remote, List<IndexSegment> segments, List<StoredObject> objects,
            HashSet<string> referenced, CancellationToken cancellationToken)
    {
        var key = OffsiteFormat.ObjectKey(OffsiteFormat.ObjectName(namingKey, sha));
        segments.Add(new IndexSegment { Object = key, Length = length, Sha256 = Convert.ToHexStringLower(sha) });
        if (!referenced.Add(key)) return (0, 0);
        if (remote.Known.TryGetValue(key, out var stored))
        {
            objects.Add(stored);
            return (0, stored.Size);
        }
        file.Seek(start, SeekOrigin.Begin);
        stored = await PutAsync(storage, key, new RangeStream(file, length), length, encrypted,
            cancellationToken).ConfigureAwait(false);
        remote.Known[key] = stored;
        objects.Add(stored);
        return (stored.Size, 0);
    }

    /// <summary>Uploads <paramref name="plaintext"/> (age-encrypted unless the destination is unencrypted) and records
    /// the stored size and SHA-256.</summary>
    private async Task<StoredObject> PutAsync(IDestinationStorage storage, string key, Stream plaintext, long length,
        bool encrypted, CancellationToken cancellationToken)
    {
        await using var body = encrypted ? AgeFormat.Encrypt(plaintext, length, context.Recipients) : plaintext;
        var storedLength = encrypted ? body.Length : length;
        var hashing = new HashingStream(body, forRead: true);
        await storage.PutAsync(key, hashing, storedLength, cancellationToken).ConfigureAwait(false);
        return new StoredObject(key, storedLength, hashing.HashHex());
    }

    private async Task EnsureNamingKeyStoredAsync(IDestinationStorage storage, byte[] namingKey, RemoteView remote,
        CancellationToken cancellationToken)
    {
        var key = OffsiteFormat.NamingKeyKey(OffsiteFormat.NamingKeyId(namingKey));
        if (remote.Objects.ContainsKey(key)) return;
        var text = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(namingKey) + "\n");
        await PutAsync(storage, key, new MemoryStream(text), text.Length, encrypted: true,
            cancellationToken).ConfigureAwait(false);
    }
}
