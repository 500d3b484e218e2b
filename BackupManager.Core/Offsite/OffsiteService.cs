using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BackupManager.Core.Archive;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Storage;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core.Offsite;

/// <summary>What one copy run did at one destination.</summary>
public sealed record CopyReport(string Destination, IReadOnlyList<string> Copied, long BytesSent, long BytesReused,
    IReadOnlyList<string> Removed, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>A destination as the page, the API and health show it.</summary>
public sealed record DestinationStatus(string Name, string Type, string Location, bool Encrypted, bool NeverDelete,
    int MaxLagHours,
    DestinationState State, IReadOnlyList<string> Pending, DateTimeOffset? OldestPendingAt);

/// <summary>What <c>app:check-destination</c> found.</summary>
public sealed record CheckReport(string Destination, int Backups, int Objects, int Sampled, long SampledBytes,
    IReadOnlyList<string> Problems)
{
    public bool Healthy => Problems.Count == 0;
}

/// <summary>Where one backup has been copied: per destination, "copied", "pending" or "failed" (or "not-kept" when that
/// destination's retention would not keep it).</summary>
public sealed record BackupCopy(string Destination, string State);

/// <summary>
/// Off-site copies in the <see cref="OffsiteFormat"/>: encrypted with age to <c>Backup__Encryption__Recipients</c>,
/// incremental (each distinct stored content once per destination). Contract:
/// <list type="bullet">
/// <item>What still needs copying is derived from what each destination holds (its catalogs), so a restart or an
/// outage catches up on its own. A copy never changes or deletes a local backup.</item>
/// <item>Objects go first, then the index, then the catalog: a backup is listed at a destination only once all it
/// needs is there. Each object is written atomically by its <see cref="IDestinationStorage"/>.</item>
/// <item>Retention at a destination removes catalogs first, then sweeps objects no catalog references and that are
/// older than a day (an upload in progress elsewhere references its objects only once its catalog is written).
/// <c>NeverDelete</c> destinations are never swept.</item>
/// <item>Copy runs, checks and sweeps of one destination are serialised across processes by a lock file.</item>
/// <item>Failures are reported per destination (<see cref="CopyReport.Error"/>, state, health) with a message that
/// says what to do; they never surface as stack traces.</item>
/// </list>
/// </summary>
public sealed class OffsiteService
{
    public const string NamingKeyFileName = ".offsite-naming-key";
    internal static readonly TimeSpan SweepGrace = TimeSpan.FromDays(1);
    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly IBackupService _backups;
    private readonly TimeProvider _time;
    private readonly ILogger<OffsiteService> _logger;
    private readonly OffsiteStateFile _state;
    private readonly IReadOnlyList<AgeRecipient> _recipients;
    private readonly Func<string, DestinationOptions, IDestinationStorage> _open;

    public OffsiteService(IOptions<BackupOptions> options, IBackupStore store, IBackupService backups,
        TimeProvider time, ILogger<OffsiteService> logger,
        Func<string, DestinationOptions, IDestinationStorage>? openStorage = null)
    {
        _options = options.Value;
        _store = store;
        _backups = backups;
        _time = time;
        _logger = logger;
        _state = new OffsiteStateFile(store.Directory);
        _recipients = _options.Encryption.Recipients.Select(AgeRecipient.Parse).ToList();
        _open = openStorage ?? OpenStorage;
    }

    public IReadOnlyList<string> DestinationNames =>
        _options.Destinations.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();

    public bool CanEncrypt => _recipients.Count > 0;

    public static IDestinationStorage OpenStorage(string name, DestinationOptions options) => options.ParsedType switch
    {
        DestinationType.Folder => new FolderDestination(name, options.Path!),
        DestinationType.S3 => new S3Destination(name, options),
        DestinationType.Sftp => new SftpDestination(name, options),
        _ => throw new BackupException(BackupErrorKind.InvalidInput, $"Destination {name} has no valid Type."),
    };

    private (string Name, DestinationOptions Options) Destination(string name) =>
        _options.Destinations.TryGetValue(name, out var d)
            ? (_options.Destinations.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)), d)
            : throw new BackupException(BackupErrorKind.NotFound, DestinationNames.Count == 0
                ? $"There is no destination named '{name}': none is configured. Add one with "
                    + $"Backup__Destinations__<name>__Type (s3, sftp or folder)."
                : $"There is no destination named '{name}'. Configured: {string.Join(", ", DestinationNames)}.");

    private bool Encrypts(DestinationOptions options) => _recipients.Count > 0;

    // ---------------------------------------------------------------- copying

    /// <summary>
    /// Copies what each destination (or only <paramref name="destination"/>) still lacks — every local backup its
    /// retention would keep, or only <paramref name="filename"/> — then applies its retention. Never throws for a
    /// destination's failure: that is in the report, the state and the log.
    /// </summary>
    public async Task<IReadOnlyList<CopyReport>> CopyPendingAsync(string? filename = null, string? destination = null,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (filename is not null) _store.ResolveExisting(filename);
        var names = destination is null ? DestinationNames : [Destination(destination).Name];
        var reports = new List<CopyReport>();
        foreach (var name in names) reports.Add(await CopyToAsync(name, filename, progress,
            cancellationToken).ConfigureAwait(false));
        return reports;
    }

    private async Task<CopyReport> CopyToAsync(string name, string? only, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        var options = Destination(name).Options;
        var copied = new List<string>();
        var removed = new List<string>();
        long sent = 0, reused = 0;
        _state.Update(name, s => s with { LastAttemptAt = _time.GetUtcNow() });
        try
        {
            using var guard = DestinationLock(name);
            await using var storage = _open(name, options);
            var remote = await ReadRemoteAsync(name, storage, cancellationToken).ConfigureAwait(false);
            var local = _store.List().Where(b => b.Readable).ToList();
            var wanted = Wanted(local, remote.Catalogs.Values.Select(c => c.ToBackupInfo()), options)
                .Where(b => only is null || b.Filename == only).OrderBy(b => b.CreatedAt).ToList();
            if (only is not null && wanted.Count == 0 && !remote.Catalogs.ContainsKey(only))
                throw new BackupException(BackupErrorKind.InvalidInput,
                    $"{only} is older than what {name} keeps (KeepDaily/KeepWeekly/KeepMonthly), so it was not copied "
                    + $"there.");
            var namingKey = NamingKey();
            if (Encrypts(options)) await EnsureNamingKeyStoredAsync(storage, namingKey, remote,
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
                _state.Update(name,
                    st => st with { Held = remote.Catalogs.Keys.Order(StringComparer.Ordinal).ToList() });
                _logger.LogInformation(
                    "Copied {Backup} to {Destination}: {Sent} bytes sent, {Reused} bytes already there",
                    backup.Filename, name, s, r);
            }
            if (!options.NeverDelete) removed.AddRange(await ApplyRetentionAsync(name, storage, options, remote,
                cancellationToken).ConfigureAwait(false));
            _state.Update(name, st => st with
            {
                LastSuccessAt = _time.GetUtcNow(), LastError = null, ConsecutiveFailures = 0,
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
            var state = _state.Update(name,
                st => st with { LastError = message, ConsecutiveFailures = st.ConsecutiveFailures + 1,
                LastErrorNeedsAction = needsAction });
            _logger.LogWarning("Copy to {Destination} failed ({Failures} in a row): {Message}", name,
                state.ConsecutiveFailures, message);
            return new CopyReport(name, copied, sent, reused, removed, message);
        }
    }

    /// <summary>The local backups a destination should receive: not there yet, and kept by its retention among
    /// everything it would hold.</summary>
    private IEnumerable<BackupInfo> Wanted(IReadOnlyList<BackupInfo> local, IEnumerable<BackupInfo> held,
        DestinationOptions options)
    {
        var heldNames = held.Select(h => h.Filename).ToHashSet(StringComparer.Ordinal);
        var missing = local.Where(b => !heldNames.Contains(b.Filename)).ToList();
        var kept = OffsiteRetention.Kept(held.Concat(missing), options, _options.KeepSafetyDays, _time.GetUtcNow());
        return missing.Where(b => kept.ContainsKey(b.Filename));
    }

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

    private async Task<(long Sent, long Reused, BackupCatalog Catalog)> CopyOneAsync(string name,
        IDestinationStorage storage, DestinationOptions options,
        BackupInfo backup, byte[] namingKey, RemoteView remote, CancellationToken cancellationToken)
    {
        var encrypted = Encrypts(options);
        long sent = 0, reused = 0;
        var path = _store.ResolveExisting(backup.Filename);
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
                CopiedAt = _time.GetUtcNow(),
            Encrypted = encrypted, Recipients = encrypted ? _recipients.Select(r => r.Text).ToList() : [],
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
        await using var body = encrypted ? AgeFormat.Encrypt(plaintext, length, _recipients) : plaintext;
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

    /// <summary>The installation's naming key (32 random bytes, hex, 0600 in the backup folder), made at first
    /// use.</summary>
    private byte[] NamingKey()
    {
        var path = Path.Combine(_store.Directory, NamingKeyFileName);
        if (!File.Exists(path))
        {
            var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            AtomicFile.WriteAllBytes(temp,
                Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
            try { File.Move(temp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(temp); }
        }
        try { return Convert.FromHexString(File.ReadAllText(path).Trim()) is { Length: 32 } key
            ? key : throw new FormatException(); }
        catch (FormatException)
        {
            throw new BackupException(BackupErrorKind.Environment,
                $"The off-site naming key {path} is damaged. Delete it: a new one is made, and the next copy to each "
                + $"destination sends everything once more.");
        }
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

    // ---------------------------------------------------------------- reading back

    /// <summary>The backups a destination holds, newest first, with the fields of the local list.</summary>
    public async Task<IReadOnlyList<BackupInfo>> ListAsync(string destination,
        CancellationToken cancellationToken = default)
    {
        var (name, options) = Destination(destination);
        try
        {
            await using var storage = _open(name, options);
            var remote = await ReadRemoteAsync(name, storage, cancellationToken).ConfigureAwait(false);
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
    public async Task<BackupInfo> FetchAsync(string destination, string filename, IReadOnlyList<AgeIdentity> identities,
        string requestedBy,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (name, options) = Destination(destination);
        if (!BackupFileName.IsValid(filename)) throw new BackupException(BackupErrorKind.InvalidInput,
            $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
        try
        {
            await using var storage = _open(name, options);
            byte[] catalogBytes;
            try { catalogBytes = await ReadAllAsync(storage, OffsiteFormat.CatalogKey(filename), 64L << 20,
                cancellationToken).ConfigureAwait(false); }
            catch (DestinationException e) when (e.Message.Contains("is missing", StringComparison.Ordinal))
            {
                throw new BackupException(BackupErrorKind.NotFound,
                    $"{name} holds no backup named {filename}. List what it holds with app:list-backups --destination "
                    + $"{name}.", e);
            }
            var catalog = OffsiteFormat.ParseCatalog(catalogBytes)
                ?? throw new BackupException(BackupErrorKind.Damaged,
                    $"The catalog of {filename} at {name} is damaged. Restore another backup and run "
                    + $"app:check-destination {name}.");
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

            var info = await _backups.AddExactCopyAsync(filename, async (output, ct) =>
            {
                using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long written = 0;
                foreach (var segment in index.Segments)
                {
                    progress?.Report(new BackupProgress("fetch", $"Fetching {filename} from {name}",
                        index.Size == 0 ? null : (double)written / index.Size));
                    if (segment.Inline is { } bytes)
                    {
                        whole.AppendData(bytes);
                        await output.WriteAsync(bytes, ct).ConfigureAwait(false);
                        written += bytes.Length;
                        continue;
                    }
                    await using var content = await OpenObjectAsync(storage, segment.Object!, catalog.Encrypted,
                        identities, filename, ct).ConfigureAwait(false);
                    var hashing = new HashingStream(content, forRead: true);
                    var buffer = new byte[1 << 20];
                    long length = 0;
                    int n;
                    while ((n = await hashing.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        whole.AppendData(buffer, 0, n);
                        await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        length += n;
                    }
                    if (length != segment.Length || hashing.HashHex() != segment.Sha256)
                        throw new BackupException(BackupErrorKind.Damaged,
                            $"The object {segment.Object} at {name}, part of {filename}, does not hold what was "
                            + $"uploaded (size or SHA-256 differ). Run app:check-destination {name}, and restore "
                            + $"another backup.");
                    written += length;
                }
                if (Convert.ToHexStringLower(whole.GetHashAndReset()) != index.Sha256)
                    throw new BackupException(BackupErrorKind.Damaged,
                        $"{filename} rebuilt from {name} does not match the SHA-256 recorded at upload; it was not "
                        + $"added.");
            }, requestedBy, cancellationToken).ConfigureAwait(false);

            if (catalog.Encrypted) await AdoptNamingKeyAsync(storage, catalog, identities,
                cancellationToken).ConfigureAwait(false);
            return info;
        }
        catch (DestinationException e) { throw new BackupException(BackupErrorKind.Destination, e.Message, e); }
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

    private async Task AdoptNamingKeyAsync(IDestinationStorage storage, BackupCatalog catalog,
        IReadOnlyList<AgeIdentity> identities, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_store.Directory, NamingKeyFileName);
        if (File.Exists(path) && OffsiteFormat.NamingKeyId(NamingKey()) == catalog.NamingKeyId) return;
        try
        {
            await using var stream = await OpenObjectAsync(storage, OffsiteFormat.NamingKeyKey(catalog.NamingKeyId),
                true, identities, catalog.Filename, cancellationToken).ConfigureAwait(false);
            var text = new StreamReader(stream).ReadToEnd().Trim();
            if (Convert.FromHexString(text) is not { Length: 32 } key
                || OffsiteFormat.NamingKeyId(key) != catalog.NamingKeyId) return;
            AtomicFile.WriteAllBytes(path, Encoding.ASCII.GetBytes(text));
            _logger.LogInformation(
                "Adopted the naming key of the off-site copies ({KeyId}): later copies reuse what the destinations "
                + "hold", catalog.NamingKeyId);
        }
        catch (Exception e) when (e is BackupException or DestinationException or FormatException)
        {
            _logger.LogWarning(
                "The naming key {KeyId} could not be adopted ({Message}); the next copy sends everything once more",
                catalog.NamingKeyId, e.Message);
        }
    }

    // ---------------------------------------------------------------- checking

    /// <summary>
    /// Checks that every catalog's index and objects are present with the recorded sizes, and re-downloads a rotating
    /// sample (at least 1/7 of the objects and up to <paramref name="sampleBytes"/>, continuing where the last check
    /// stopped, so a week of daily checks reads everything) comparing each with the SHA-256 recorded at upload.
    /// </summary>
    public async Task<CheckReport> CheckAsync(string destination, long sampleBytes = 1L << 30,
        CancellationToken cancellationToken = default)
    {
        var (name, options) = Destination(destination);
        var problems = new List<string>();
        int sampled = 0, objectCount = 0, backups = 0;
        long sampledBytes = 0;
        try
        {
            using var guard = DestinationLock(name);
            await using var storage = _open(name, options);
            var remote = await ReadRemoteAsync(name, storage, cancellationToken).ConfigureAwait(false);
            backups = remote.Catalogs.Count;
            foreach (var key in remote.Objects.Keys.Where(k => OffsiteFormat.FilenameOfCatalog(k) is { } f
                && !remote.Catalogs.ContainsKey(f)))
                problems.Add($"The catalog {key} is unreadable.");
            var recorded = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            foreach (var catalog in remote.Catalogs.Values.OrderBy(c => c.Filename, StringComparer.Ordinal))
            {
                foreach (var o in catalog.Objects.Prepend(catalog.Index))
                {
                    recorded.TryAdd(o.Key, o);
                    if (!remote.Objects.TryGetValue(o.Key,
                        out var present)) problems.Add($"{catalog.Filename}: {o.Key} is missing.");
                    else if (present.Size != o.Size) problems.Add(
                        $"{catalog.Filename}: {o.Key} is {present.Size:N0} bytes instead of {o.Size:N0}.");
                }
            }
            objectCount = recorded.Count;
            var keys = recorded.Keys.ToList();
            var state = _state.Read(name);
            var start = keys.Count == 0 ? 0 : state.SampleCursor % keys.Count;
            var minimum = (keys.Count + 6) / 7;
            var position = start;
            while (sampled < keys.Count && (sampled < minimum || sampledBytes < sampleBytes))
            {
                var o = recorded[keys[position]];
                position = (position + 1) % keys.Count;
                sampled++;
                if (!remote.Objects.ContainsKey(o.Key)) continue;
                sampledBytes += o.Size;
                try
                {
                    await using var stream = await storage.OpenReadAsync(o.Key,
                        cancellationToken).ConfigureAwait(false);
                    var hashing = new HashingStream(stream, forRead: true);
                    await hashing.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                    if (hashing.BytesHashed != o.Size
                        || hashing.HashHex() != o.Sha256) problems.Add(
                        $"{o.Key} is damaged: its SHA-256 differs from the one recorded at upload.");
                }
                catch (DestinationException e) { problems.Add(e.Message); }
            }
            var problemList = problems.ToList();
            _state.Update(name,
                s => s with { LastCheckAt = _time.GetUtcNow(), CheckProblems = problemList, SampleCursor = position,
                Held = remote.Catalogs.Keys.Order(StringComparer.Ordinal).ToList() });
        }
        catch (DestinationException e)
        {
            problems.Add(e.Message);
            var problemList = problems.ToList();
            _state.Update(name, s => s with { LastCheckAt = _time.GetUtcNow(), CheckProblems = problemList });
        }
        if (problems.Count > 0) _logger.LogWarning("Check of {Destination} found {Count} problem(s): {First}", name,
            problems.Count, problems[0]);
        return new CheckReport(name, backups, objectCount, sampled, sampledBytes, problems);
    }

    // ---------------------------------------------------------------- state for pages, API and health

    /// <summary>Each destination's last known state and the local backups it still lacks (from the last
    /// listing).</summary>
    public IReadOnlyList<DestinationStatus> GetStatus()
    {
        var all = _state.ReadAll();
        var local = _store.List().Where(b => b.Readable).ToList();
        return DestinationNames.Select(name =>
        {
            var options = _options.Destinations[name];
            var state = all.GetValueOrDefault(name) ?? new DestinationState();
            // What the destination held at the last listing, dated by name where the local copy is gone.
            var held = state.Held.Select(h => local.FirstOrDefault(l => l.Filename == h)
                ?? new BackupInfo(h, 0, BackupFileName.TimeOf(h), BackupTrigger.Unknown, [], null, false, true, 0));
            var pending = Wanted(local, held.ToList(), options).OrderBy(b => b.CreatedAt).ToList();
            return new DestinationStatus(name, options.ParsedType?.ToString().ToLowerInvariant() ?? "?",
                Describe(name, options),
                Encrypts(options), options.NeverDelete, options.MaxLagHours, state,
                    pending.Select(p => p.Filename).ToList(), pending.FirstOrDefault()?.CreatedAt);
        }).ToList();
    }

    private static string Describe(string name, DestinationOptions options) => options.ParsedType switch
    {
        DestinationType.Folder => options.Path!,
        DestinationType.S3 => $"s3://{options.Bucket}/{options.Prefix?.Trim('/')}",
        DestinationType.Sftp =>
            $"sftp://{options.Username}@{options.Host}:{options.Port}/{options.Path?.TrimStart('/')}",
        _ => name,
    };

    /// <summary>Where <paramref name="filename"/> has been copied, per destination.</summary>
    public IReadOnlyList<BackupCopy> CopiesOf(string filename, IReadOnlyList<DestinationStatus>? status = null) =>
        (status ?? GetStatus()).Select(d => new BackupCopy(d.Name,
            d.State.Held.Contains(filename) ? "copied"
            : d.Pending.Contains(filename) ? (d.State.LastError is null ? "pending" : "failed")
            : "not-kept")).ToList();

    /// <summary>One health check per destination: last success, backups waiting, lag, check failures, unencrypted
    /// remote.</summary>
    public IReadOnlyList<Health.BackupCheck> HealthChecks()
    {
        var now = _time.GetUtcNow();
        var checks = new List<Health.BackupCheck>();
        foreach (var d in GetStatus())
        {
            var check = $"destination:{d.Name}";
            var lag = d.OldestPendingAt is { } oldest ? now - oldest : TimeSpan.Zero;
            if (lag > TimeSpan.FromHours(d.MaxLagHours))
                checks.Add(new(check, false,
                    $"{d.Pending.Count} backup(s) have waited {lag.TotalHours:0} hours to be copied to {d.Name} "
                    + $"(limit {d.MaxLagHours} h). "
                    + (d.State.LastError is { } error
                        ? $"Last error: {error}" : "Check that the web app runs, or run app:copy-backup.")));
            else if (d.State.CheckProblems.Count > 0)
                checks.Add(new(check, false,
                    $"The last check of {d.Name} found {d.State.CheckProblems.Count} problem(s): "
                    + $"{d.State.CheckProblems[0]} Run app:check-destination {d.Name}."));
            else if (d.State.LastError is { } error
                && (d.State.LastErrorNeedsAction || d.State.ConsecutiveFailures >= 3))
                checks.Add(new(check, false,
                    d.State.ConsecutiveFailures >= 3
                    ? $"Copies to {d.Name} failed {d.State.ConsecutiveFailures} times in a row: {error}"
                    : $"Copies to {d.Name} fail: {error}"));
            else
                checks.Add(new(check, true, (d.State.LastSuccessAt is { } at
                    ? $"{d.Name}: last copy {at:yyyy-MM-dd HH:mm} UTC; {d.Pending.Count} waiting."
                    : $"{d.Name}: nothing copied yet; {d.Pending.Count} waiting.")
                    + (d.State.LastError is { } retrying
                        ? $" The last attempt failed and is retried: {retrying}" : "")));
            if (!d.Encrypted && d.Type is "s3" or "sftp")
                checks.Add(new($"{check}:encryption", false,
                    $"{d.Name} receives the clinic's data unencrypted (AllowUnencrypted). Set "
                    + $"Backup__Encryption__Recipients__0 to the clinic's age1… key."));
        }
        return checks;
    }

    // ---------------------------------------------------------------- encrypted download

    /// <summary>
    /// A backup encrypted to the recipients, for a laptop or a USB stick: a stream of the age file, computed as it is
    /// read (no temporary copy), and its exact length.
    /// </summary>
    public (Stream Content, long Length) OpenEncrypted(string filename)
    {
        if (_recipients.Count == 0)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No age recipients are configured, so there is nothing to encrypt to. Set "
                + "Backup__Encryption__Recipients__0 to the clinic's age1… key.");
        var path = _store.ResolveExisting(filename);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20,
            FileOptions.SequentialScan);
        var encrypted = AgeFormat.Encrypt(file, file.Length, _recipients);
        return (encrypted, encrypted.Length);
    }

    /// <summary>A read-only window of <paramref name="size"/> bytes from the current position of <paramref
    /// name="inner"/>.</summary>
    private sealed class RangeStream(Stream inner, long size) : ReadOnlyStream
    {
        private readonly long _size = size;
        private long _left = size;
        public override long Length => _size;
        public override long Position { get => _size - _left; set => throw new NotSupportedException(); }
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)],
                cancellationToken).ConfigureAwait(false);
            _left -= n;
            return n;
        }
    }
}
