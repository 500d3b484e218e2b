using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Files;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Retention;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core;

/// <summary>The backup engine. See <see cref="IBackupService"/> for the contract every front end relies on.</summary>
public sealed partial class BackupService : IBackupService
{
    private static readonly string AppVersion =
        typeof(BackupService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly BackupOperationLock _lock;
    private readonly IDatabaseDumper? _dumper;
    private readonly IDatabaseRestorer? _restorer;
    private readonly TimeProvider _time;
    private readonly ILogger<BackupService> _logger;
    private readonly IReadOnlyList<FileRoot> _roots;
    private readonly FileTreeScanner _scanner;
    private readonly ArchiveSigner? _signer;
    private readonly PostgresTarget? _target;

    public BackupService(IOptions<BackupOptions> options, IBackupStore store, BackupOperationLock operationLock, TimeProvider time,
        ILogger<BackupService> logger, IDatabaseDumper? dumper = null, IDatabaseRestorer? restorer = null, ArchiveSigner? signer = null, PostgresTarget? target = null)
    {
        _target = target;
        _signer = signer;
        _options = options.Value;
        _store = store;
        _lock = operationLock;
        _time = time;
        _logger = logger;
        _dumper = dumper;
        _restorer = restorer;
        _roots = _options.Paths.Select(FileRoot.From).ToList();
        _scanner = new FileTreeScanner(_options.Exclude);
    }

    public Task<IReadOnlyList<BackupInfo>> ListAsync(CancellationToken cancellationToken = default) => Task.FromResult(_store.List());

    public string GetArchivePath(string filename) => _store.ResolveExisting(filename);

    public async Task<BackupInfo> CreateAsync(CreateBackupRequest request, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.Acquire("create", request.RequestedBy);
        var created = await CreateLockedAsync(request, progress, cancellationToken).ConfigureAwait(false);
        await VerifyThenApplyRetentionAsync(created.Filename, progress, cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>
    /// Reads a new archive back in full (every entry decoded and checked, as verify does) and only then lets retention
    /// delete older backups: a backup that cannot be read must never be the reason a good one is deleted. An archive
    /// that fails is removed and the create fails; nothing else is deleted.
    /// </summary>
    private async Task VerifyThenApplyRetentionAsync(string filename, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new BackupProgress("create", "Reading the new backup back to verify it"));
        try
        {
            await BackupArchiveReader.VerifyInFullAsync(_store.ResolveExisting(filename), cancellationToken).ConfigureAwait(false);
        }
        catch (BackupException e) when (e.Kind == BackupErrorKind.Damaged)
        {
            _store.Delete(filename);
            throw new BackupException(BackupErrorKind.Damaged,
                $"The new backup {filename} did not read back correctly, so it was deleted and no older backup was removed ({e.Message}). "
                + "The disk under the backup folder may be failing: check the system log (dmesg) and the disk's health, then try again.", e);
        }
        ApplyRetention(filename);
    }

    public async Task<VerificationReport> VerifyAsync(string filename, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var archive = BackupArchiveReader.Open(_store.ResolveExisting(filename));
        return await archive.VerifyAsync(progress, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RestoreResult> RestoreAsync(RestoreBackupRequest request, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.Acquire("restore", request.RequestedBy);
        var path = _store.ResolveExisting(request.Filename);
        await FinishPendingRestoreAsync().ConfigureAwait(false);
        // Opening checks every byte outside the entries; each entry's bytes are checked as they stream into the
        // staging copies, and nothing live is touched until all of them passed.
        progress?.Report(new BackupProgress("restore", "Verifying the backup"));
        using var archive = BackupArchiveReader.Open(path);
        var foreign = _signer is not null && !_signer.IsOwn(ArchiveSummary.ReadFromFile(path), request.Filename);
        if (foreign && !request.AllowForeign) throw ArchiveSigner.RefusedAsForeign(request.Filename);
        var plan = PlanRestore(archive.Manifest, request) with { Foreign = foreign };

        progress?.Report(new BackupProgress("restore", "Restoring into staging copies"));
        var swapStarted = new System.Runtime.CompilerServices.StrongBox<bool>();
        RestoreResult result;
        try
        {
            result = await NewRestoreCoordinator().RunAsync(archive, () => BackupArchiveReader.Open(path), plan, request.RequestedBy, progress, swapStarted, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!swapStarted.Value && e is BackupException or IOException)
        {
            if (e is BackupException { Kind: BackupErrorKind.Damaged }) throw;
            var kind = e is BackupException be ? be.Kind : BackupErrorKind.Environment;
            var detail = e is IOException io ? DescribeIo(io) : e.Message;
            throw new BackupException(kind, $"The restore of {request.Filename} failed and nothing was changed: {detail}", e);
        }
        foreach (var warning in result.Warnings) _logger.LogWarning("{Warning}", warning);
        _logger.LogInformation("Restored {Backup} (database: {Database}, folders: {Folders}) for {User}; safety backup {Safety}",
            request.Filename, result.RestoredDatabase, string.Join(", ", result.RestoredFolders), request.RequestedBy, result.SafetyBackup);
        return result;
    }

    public Task DeleteAsync(string filename, string requestedBy, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.Acquire("delete", requestedBy);
        _store.Delete(filename);
        _logger.LogInformation("Deleted backup {Backup} at the request of {User}", filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task SetPinnedAsync(string filename, bool pinned, string requestedBy, CancellationToken cancellationToken = default)
    {
        _store.ResolveExisting(filename);
        _store.SetPinned(filename, pinned);
        _logger.LogInformation("{Action} backup {Backup} at the request of {User}", pinned ? "Pinned" : "Unpinned", filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RetentionDecision>> PruneAsync(bool dryRun, string requestedBy, CancellationToken cancellationToken = default)
    {
        if (dryRun) return Task.FromResult(RetentionPolicy.From(_options).Evaluate(_store.List(), _time.GetUtcNow()));
        using var lease = _lock.Acquire("prune", requestedBy);
        return Task.FromResult(ApplyRetention(null));
    }

    /// <summary>How far in the future an upload's date may be (clocks of two machines differ a little).</summary>
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public Task<BackupFolderStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var list = _store.List();
        var now = _time.GetUtcNow();
        // Freshness counts only backups this installation made: an upload (or a copy dated ahead) proves nothing about today.
        var newest = list.FirstOrDefault(b => b.Readable && !b.Foreign && b.Trigger != BackupTrigger.Upload && b.CreatedAt <= now + MaxClockSkew);
        long free;
        try { free = new DriveInfo(_store.Directory).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { free = -1; }
        return Task.FromResult(new BackupFolderStatus(list.Count, _options.MaxBackups, list.Sum(b => b.Size), free, newest,
            DescribeUnfinishedRestore()));
    }

    /// <summary>A sentence for the health check when a restore journal outlived its operation; null while a restore is running or none is left.</summary>
    private string? DescribeUnfinishedRestore()
    {
        RestoreJournal? journal;
        try { journal = RestoreJournal.Load(_store.Directory); }
        catch (BackupException e) { return e.Message; }
        if (journal is null || _lock.SeemsBusy()) return null;
        if (journal.State != RestoreJournalState.Committed)
            return $"A restore of {journal.Backup} was interrupted. Restart BackupManager or run any app: command to finish or undo it.";
        var parked = ParkedState.From(journal).Describe();
        if (journal.SafetyBackup is not null)
            return $"The restore of {journal.Backup} and its safety backup {journal.SafetyBackup} are complete, but {parked} (the replaced state) are still there. Restart BackupManager or run any app: command to remove them.";
        return $"The restore of {journal.Backup} is complete, but the safety backup of the state it replaced is not written yet; that state is kept as {parked}. "
            + "Free space in the backup folder if it is full, then restart BackupManager or run any app: command to write it.";
    }

    public async Task<BackupInfo> ImportAsync(Stream content, long maxBytes, string requestedBy, CancellationToken cancellationToken = default)
    {
        var temp = _store.NewUploadPath();
        try
        {
            await using (var output = new FileStream(temp, PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: BackupArchiveWriter.BufferSize)))
            {
                var buffer = new byte[BackupArchiveWriter.BufferSize];
                long total = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > maxBytes)
                        throw new BackupException(BackupErrorKind.TooLarge,
                            $"The upload is larger than the limit of {maxBytes:N0} bytes (Backup__MaxUploadBytes). Raise the limit or copy the file into the backup folder by hand.");
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
                RestoreSpaceCheck.Ensure("uploaded file", archive.Manifest, new RestorePlan(false, [.. _roots.Select(r => (r.Name, r))]), upload: true);
                await archive.VerifyAsync(null, cancellationToken).ConfigureAwait(false);
                createdAt = archive.Manifest.CreatedAt;
                var manifest = archive.Manifest;
                // A future date would make it "newest" for years: health would trust it and retention keep it above real backups.
                if (createdAt > _time.GetUtcNow() + MaxClockSkew)
                    throw new BackupException(BackupErrorKind.Refused,
                        $"The uploaded backup says it was made at {createdAt:u}, which is in the future (this server's time is {_time.GetUtcNow():u}), so it was not accepted. "
                        + "If the machine that made it has a wrong clock, fix that clock; if this server's clock is wrong, fix this one, then upload again.");
                // The zip comment is covered by no signature: what listing, health and retention read is re-derived
                // from the verified manifest.
                summary = ArchiveSummary.ReadFromFile(temp)! with
                {
                    CreatedAt = createdAt, Contains = manifest.Contains, Warnings = manifest.Warnings.Count,
                };
            }
            var filename = BackupFileName.For(createdAt);
            if (File.Exists(Path.Combine(_store.Directory, filename)))
                throw new BackupException(BackupErrorKind.AlreadyExists, $"A backup named {filename} already exists; this upload is probably the same backup.");
            ArchiveSummary.RewriteInFile(temp, summary with { Trigger = BackupTrigger.Upload, RequestedBy = requestedBy });
            var committed = _store.Commit(temp, createdAt);
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

    public async Task<BackupInfo> AddExactCopyAsync(string filename, Func<Stream, CancellationToken, Task> writeArchive, string requestedBy, CancellationToken cancellationToken = default)
    {
        if (!BackupFileName.IsValid(filename)) throw new BackupException(BackupErrorKind.InvalidInput, $"'{filename}' is not a backup filename (backup-YYYY-MM-DD_HH-mm-ss.zip).");
        var temp = _store.NewUploadPath();
        try
        {
            await using (var output = new FileStream(temp, PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: BackupArchiveWriter.BufferSize)))
            {
                await writeArchive(output, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
            using var lease = _lock.Acquire("fetch", requestedBy);
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
                    $"A different backup named {filename} is already in the backup folder; nothing was replaced. Move it aside if you want the copy from the destination.");
            }
            if (BackupFileName.For(createdAt) != filename)
                throw new BackupException(BackupErrorKind.Damaged, $"The copy of {filename} says it was made at {createdAt:u}, which does not match its name; it was not added.");
            var committed = _store.Commit(temp, createdAt);
            _logger.LogInformation("Added {Backup}, fetched back from an off-site copy, for {User}", committed, requestedBy);
            return _store.List().Single(b => b.Filename == committed);
        }
        catch (IOException e)
        {
            throw new BackupException(BackupErrorKind.Environment, $"The copy of {filename} was not stored: {DescribeIo(e)}", e);
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
        return x.Length == y.Length && System.Security.Cryptography.SHA256.HashData(x).AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData(y));
    }

    public async Task<IReadOnlyList<string>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var messages = new List<string>();
        if (_signer is { IsNew: true } && AdoptUnsignedBackups() is > 0 and var adopted)
        {
            var message = $"Signed {adopted} backup(s) that were already in {_store.Directory} as this installation's own (they were made before archives were signed; uploads stay foreign).";
            messages.Add(message);
        }
        var tightened = PrivateFiles.Tighten(_store.Directory);
        if (tightened > 0)
        {
            var message = $"Made {tightened} file(s) and folder(s) in {_store.Directory} private to BackupManager's user (0600 / 0700): other local users could read them. "
                + "Run the service with UMask=0077 so nothing is created readable again.";
            messages.Add(message);
        }
        using var lease = _lock.TryAcquire("recover", "start-up");
        if (lease is null) return messages; // another process is working and owns its own leftovers
        var recovered = await NewRestoreCoordinator().RecoverAsync().ConfigureAwait(false);
        if (recovered is not null)
        {
            messages.Add(recovered);
        }
        var removed = _store.RemoveLeftovers();
        if (removed > 0)
        {
            var message = $"Removed {removed} incomplete backup file(s) left by an interrupted create.";
            messages.Add(message);
        }
        return messages;
    }

    /// <summary>
    /// When the signing key is new, the backups already in the folder (except uploads) were made here: record them once
    /// as this installation's own, beside them (a committed archive is never rewritten in place).
    /// </summary>
    private int AdoptUnsignedBackups()
    {
        var unsigned = _store.List().Where(b => b.Foreign && b.Readable && b.Trigger != BackupTrigger.Upload)
            .Select(b => (b.Filename, Summary: ArchiveSummary.ReadFromFile(Path.Combine(_store.Directory, b.Filename))))
            .Where(b => b.Summary is { Signature: null, DirectorySha256.Length: > 0 })
            .Select(b => (b.Filename, b.Summary!)).ToList();
        if (unsigned.Count > 0) _signer!.Adopt(unsigned);
        return unsigned.Count;
    }

    private RestoreCoordinator NewRestoreCoordinator() => new(_store.Directory, _restorer, ArchiveParkedStateAsync, _logger);

    /// <summary>A new restore would start a new journal, so an earlier one whose previous state is still parked is finished first.</summary>
    private async Task FinishPendingRestoreAsync()
    {
        if (RestoreJournal.Load(_store.Directory) is null) return;
        var message = await NewRestoreCoordinator().RecoverAsync().ConfigureAwait(false);
        if (message is not null) _logger.LogWarning("{Message}", message);
        if (RestoreJournal.Load(_store.Directory) is not null)
            throw new BackupException(BackupErrorKind.Environment, $"An earlier restore is not finished, so no new restore was started: {message}");
    }

    /// <summary>The pre-restore safety backup, made from the previous state a restore parked (which holds every write up to the swap).</summary>
    private async Task<string> ArchiveParkedStateAsync(ParkedState parked, CancellationToken cancellationToken)
    {
        // A crash between committing the safety backup and recording it in the journal must not make a second one.
        var existing = _store.List().FirstOrDefault(b => b.Trigger == BackupTrigger.PreRestore && b.CreatedAt == parked.ParkedAt);
        if (existing is not null) return existing.Filename;
        var scope = parked.Folders.Count == 0 ? BackupScope.DatabaseOnly : parked.Database is null ? BackupScope.FilesOnly : BackupScope.Full;
        var made = await CreateLockedAsync(new CreateBackupRequest(scope, BackupTrigger.PreRestore, parked.RequestedBy), null, cancellationToken, parked).ConfigureAwait(false);
        await VerifyThenApplyRetentionAsync(made.Filename, null, cancellationToken).ConfigureAwait(false);
        return made.Filename;
    }

    /// <summary>Makes a backup of the live state, or of <paramref name="parked"/> (read from its parked names, recorded under the live ones).</summary>
    private async Task<BackupInfo> CreateLockedAsync(CreateBackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken, ParkedState? parked = null)
    {
        var (withDatabase, withFiles) = ResolveScope(request.Scope);
        progress?.Report(new BackupProgress("create", "Preparing"));
        var warnings = new List<string>();
        var createdAt = parked?.ParkedAt ?? _time.GetUtcNow();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // Low priority: the dump and the files share one read budget; pg_dump and our compression threads are niced.
        var throttle = request.Priority == BackupPriority.Low ? new ReadThrottle(_options.LowPriorityBytesPerSecond) : null;
        var temp = _store.NewTempPath();
        var dumpTemp = temp + ".dump";
        using var stopDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The database is dumped and deflated (into a spill file, then into its entry) while the files are written: different cores.
        // It starts first: the dump is the longest part of a backup.
        PrecompressedSink? dumpSink = null;
        Task<PrecompressedContent>? dump = null;
        DumpRowCounter? rowCounter = null;
        long? databaseBytes = null;
        try
        {
            if (withDatabase)
            {
                dumpSink = new PrecompressedSink(dumpTemp);
                dump = Task.Run(() => PrecompressedFile.WriteAsync(dumpSink, _options.DumpCompressionLevel,
                    (destination, token) => _dumper!.DumpAsync(rowCounter = new DumpRowCounter(throttle?.Wrap(destination) ?? destination), parked?.Database, token, throttle is not null),
                    stopDump.Token, lowPriority: throttle is not null), CancellationToken.None);
            }
            // Described while the dump starts and the folders are scanned (both mostly wait: on the server, on the disk).
            var describing = withDatabase ? Task.Run(() => _dumper!.DescribeAsync(parked?.Database, cancellationToken), CancellationToken.None) : null;
            var sources = parked is null ? _roots.Select(root => (root, live: root.FullPath))
                : parked.Folders.Select(f => (root: new FileRoot(FileRoot.NameOf(f.LiveFolder), f.ParkedFolder), live: f.LiveFolder));
            List<(FileRoot root, string live, List<ScannedFile> files)> scanned;
            try { scanned = withFiles ? sources.Select(s => (s.root, s.live, files: _scanner.Scan(s.root, warnings))).ToList() : []; }
            catch when (describing is not null)
            {
                await describing.ConfigureAwait(false); // a database that cannot be reached is the clearer message
                throw;
            }
            var database = describing is null ? null : await describing.ConfigureAwait(false);
            BackupManifest manifest;
            ArchiveSummary summary;
            await using (var output = new UncachedFileWriter(temp))
            {
                using var writer = new BackupArchiveWriter(output);
                if (database is not null) progress?.Report(new BackupProgress("create", "Dumping the database and adding files", null, database.Name));
                var roots = await AddFilesAsync(writer, scanned, dump, warnings, progress, throttle, cancellationToken).ConfigureAwait(false);
                ManifestDatabase? databaseRecord = null;
                if (database is not null)
                {
                    var entryName = $"{ArchivePath.DatabasePrefix}{SafeFileName(database.Name)}.dump";
                    // The roles the database needs, as a script an operator can run with psql on a new server.
                    var rolesScript = System.Text.Encoding.UTF8.GetBytes(RequiredRoles.ToPsqlScript(database.Roles, database.Name, createdAt));
                    await writer.AddAsync(ArchivePath.RolesEntry, CompressionLevel.Fastest, createdAt, rolesScript.Length,
                        (destination, token) => destination.WriteAsync(rolesScript, token).AsTask(), cancellationToken).ConfigureAwait(false);
                    progress?.Report(new BackupProgress("create", "Adding the database dump as it is written", null, database.Name));
                    // The files are in: the dump's entry takes what is spilled so far and then the rest as it comes.
                    var streaming = dumpSink!.TryHandOff(() => writer.OpenPrecompressed(entryName, createdAt, deflated: _options.DumpCompressionLevel > 0));
                    var dumped = await dump!.ConfigureAwait(false);
                    databaseBytes = dumped.Size;
                    if (streaming is not null) writer.CompletePrecompressed(entryName, createdAt, streaming, dumped);
                    // The dump finished first: its entry is written from the complete spill file.
                    else await writer.AddPrecompressedAsync(entryName, createdAt, dumped, dumpTemp, cancellationToken).ConfigureAwait(false);
                    dumpSink.Dispose();
                    TryDelete(dumpTemp);
                    databaseRecord = new ManifestDatabase(database.Name, database.ServerVersion, database.DumpToolVersion, entryName)
                    {
                        State = database.State,
                        Roles = database.Roles,
                        RolesEntry = ArchivePath.RolesEntry,
                        RowCounts = rowCounter?.Counts,
                    };
                }
                progress?.Report(new BackupProgress("create", "Writing the manifest"));
                var contains = new List<string>();
                if (databaseRecord is not null) contains.Add(BackupContents.Database);
                if (withFiles) contains.Add(BackupContents.Files);
                manifest = new BackupManifest
                {
                    AppVersion = AppVersion,
                    CreatedAt = createdAt,
                    Trigger = request.Trigger,
                    RequestedBy = request.RequestedBy,
                    Contains = contains,
                    Database = databaseRecord,
                    Roots = roots,
                    Entries = writer.Entries,
                    Totals = writer.Totals,
                    Warnings = warnings,
                };
                summary = writer.Complete(manifest, request.RequestedBy);
                output.Complete(flushToDisk: false);
            }
            summary = summary with
            {
                DatabaseBytes = databaseBytes,
                FilesBytes = withFiles ? manifest.Roots.Sum(r => r.Bytes) : null,
                DurationMs = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
            ArchiveSummary.SealFile(temp, summary, _signer); // flushes the whole file to disk
            var filename = _store.Commit(temp, createdAt);
            var size = new FileInfo(Path.Combine(_store.Directory, filename)).Length;
            _logger.LogInformation("Created backup {Backup} ({Trigger}, {Contains}, {Size} bytes, {Warnings} warnings) for {User}",
                filename, request.Trigger, string.Join("+", manifest.Contains), size, warnings.Count, request.RequestedBy);
            foreach (var warning in warnings) _logger.LogWarning("Backup {Backup}: {Warning}", filename, warning);
            return new BackupInfo(filename, size, createdAt, request.Trigger, manifest.Contains, request.RequestedBy, false, true, warnings.Count);
        }
        catch (Exception e)
        {
            if (dump is not null)
            {
                await stopDump.CancelAsync().ConfigureAwait(false);
                try { await dump.ConfigureAwait(false); }
                catch (Exception dumpFailure) when (e is not BackupException && dumpFailure is BackupException)
                {
                    // The dump failing is the cause; the archive's failure only followed from it.
                    e = dumpFailure;
                }
                catch (Exception) { /* already failing for another reason */ }
            }
            dumpSink?.Dispose();
            TryDelete(temp);
            TryDelete(dumpTemp);
            if (e is BackupException) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
            if (e is IOException io) throw new BackupException(BackupErrorKind.Environment, $"The backup was not created: {DescribeIo(io)}", io);
            if (e is OperationCanceledException) throw new BackupException(BackupErrorKind.Cancelled, "The backup was cancelled; no file was kept.", e);
            throw;
        }
    }

    /// <summary>Adds every scanned file to the archive; stops early when the dump has already failed (the backup cannot succeed).</summary>
    private static async Task<List<ManifestRoot>> AddFilesAsync(BackupArchiveWriter writer, List<(FileRoot root, string live, List<ScannedFile> files)> scanned,
        Task? dump, List<string> warnings, IProgress<BackupProgress>? progress, ReadThrottle? throttle, CancellationToken cancellationToken)
    {
        long totalFileBytes = scanned.Sum(r => r.files.Sum(f => f.Size)), doneBytes = 0;
        var roots = new List<ManifestRoot>();
        foreach (var (root, live, files) in scanned)
        {
            int count = 0;
            long bytes = 0;
            for (int index = 0, prefetched = 0; index < files.Count; index++)
            {
                var file = files[index];
                if (dump is { IsFaulted: true }) await dump.ConfigureAwait(false);
                if (file.IsDirectory)
                {
                    writer.AddDirectory($"{ArchivePath.FilesPrefix}{file.Root.Name}/{file.RelativePath}{(file.RelativePath.Length == 0 ? "" : "/")}",
                        new DateTimeOffset(file.LastWriteUtc, TimeSpan.Zero), AttributesOf(file));
                    continue;
                }
                prefetched = PrefetchSmallFiles(files, prefetched, index + PrefetchAhead);
                var added = await AddFileAsync(writer, file, warnings, throttle, cancellationToken).ConfigureAwait(false);
                if (added is not null) { count++; bytes += added.Size; }
                doneBytes += file.Size;
                progress?.Report(new BackupProgress("create", "Adding files", totalFileBytes == 0 ? 1 : (double)doneBytes / totalFileBytes, file.RelativePath));
            }
            if (Directory.Exists(root.FullPath)) roots.Add(new ManifestRoot(root.Name, live, count, bytes));
        }
        return roots;
    }

    private const long UncachedReadThreshold = 1 << 20;
    private const int PrefetchAhead = 32;

    /// <summary>
    /// Small files are read one after the other, each a separate wait on the disk (about 1 ms on a cold virtual disk or
    /// a NAS). Announcing the next ones to the kernel keeps several reads in flight. Large files stream past the page
    /// cache, where a prefetch would be read twice. Returns how many files are announced.
    /// </summary>
    private static int PrefetchSmallFiles(List<ScannedFile> files, int announced, int upTo)
    {
        for (; announced < files.Count && announced <= upTo; announced++)
            if (files[announced].Size is > 0 and < UncachedReadThreshold) NativeFileSystem.TryPrefetch(files[announced].FullPath);
        return announced;
    }

    private static async Task<ManifestEntry?> AddFileAsync(BackupArchiveWriter writer, ScannedFile file, List<string> warnings, ReadThrottle? throttle, CancellationToken cancellationToken)
    {
        Stream source;
        try
        {
            // Large files stream past the page cache (cheaper, and they do not evict the database); small ones are
            // read through it, where a file read recently costs no disk access.
            source = file.Size >= UncachedReadThreshold
                ? new UncachedFileReader(file.FullPath, FileShare.ReadWrite | FileShare.Delete)
                : new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            if (throttle is not null) source = throttle.Wrap(source);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            warnings.Add($"{file.FullPath} vanished before it was read; it is not in this backup.");
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            warnings.Add($"{file.FullPath} could not be read (permission denied); it is not in this backup.");
            return null;
        }
        await using (source)
        {
            var entryName = $"{ArchivePath.FilesPrefix}{file.Root.Name}/{file.RelativePath}";
            var entry = await writer.AddAsync(entryName, CompressionPolicy.For(file.RelativePath), new DateTimeOffset(file.LastWriteUtc, TimeSpan.Zero), file.Size,
                (destination, token) => source.CopyToAsync(destination, BackupArchiveWriter.BufferSize, token), cancellationToken, AttributesOf(file)).ConfigureAwait(false);
            var after = new FileInfo(file.FullPath);
            if (!after.Exists || after.Length != file.Size || after.LastWriteTimeUtc != file.LastWriteUtc || entry.Size != file.Size)
                warnings.Add($"{file.FullPath} changed while it was read; the backup holds the bytes read (checksummed), which may mix old and new content.");
            return entry;
        }
    }

    private static ZipEntryAttributes AttributesOf(ScannedFile file) => new(file.Mode, file.Uid, file.Gid);

    private (bool Database, bool Files) ResolveScope(BackupScope scope)
    {
        var database = scope != BackupScope.FilesOnly && _dumper is not null;
        var files = scope != BackupScope.DatabaseOnly && _roots.Count > 0;
        if (scope == BackupScope.DatabaseOnly && !database)
            throw new BackupException(BackupErrorKind.InvalidInput, "No database is configured. Set ConnectionStrings__Default or Backup__Database to back up a database.");
        if (scope == BackupScope.FilesOnly && !files)
            throw new BackupException(BackupErrorKind.InvalidInput, "No folders are configured. Set Backup__Paths__0 (and __1, …) to back up files.");
        if (!database && !files)
            throw new BackupException(BackupErrorKind.InvalidInput, "There is nothing to back up: configure a database (ConnectionStrings__Default) and/or folders (Backup__Paths__0).");
        return (database, files);
    }

    private RestorePlan PlanRestore(BackupManifest manifest, RestoreBackupRequest request)
    {
        var archiveHasDatabase = manifest.Database is not null;
        var archiveRoots = manifest.Roots.Select(r => r.Name).ToList();
        var database = request.Scope != BackupScope.FilesOnly && archiveHasDatabase;
        var withFiles = request.Scope != BackupScope.DatabaseOnly && manifest.Contains.Contains(BackupContents.Files);
        if (request.Scope == BackupScope.DatabaseOnly && !archiveHasDatabase)
            throw new BackupException(BackupErrorKind.InvalidInput, $"{request.Filename} contains no database; restore its files instead.");
        if (request.Scope == BackupScope.FilesOnly && !withFiles)
            throw new BackupException(BackupErrorKind.InvalidInput, $"{request.Filename} contains no files; restore its database instead.");
        if (database && _restorer is null)
            throw new BackupException(BackupErrorKind.InvalidInput, "No database is configured to restore into. Set ConnectionStrings__Default or Backup__Database.");
        var folders = new List<(string, FileRoot)>();
        if (withFiles)
        {
            foreach (var rootName in archiveRoots)
            {
                var target = _roots.FirstOrDefault(r => r.Name == rootName)
                    ?? throw new BackupException(BackupErrorKind.InvalidInput,
                        $"{request.Filename} holds the folder '{rootName}', which is not configured here. Add its location to Backup__Paths, or restore the database only.");
                folders.Add((rootName, target));
            }
        }
        if (!database && folders.Count == 0)
            throw new BackupException(BackupErrorKind.InvalidInput, $"{request.Filename} holds nothing to restore for the chosen scope.");
        return new RestorePlan(database, folders);
    }

    private IReadOnlyList<RetentionDecision> ApplyRetention(string? justCreated)
    {
        var decisions = RetentionPolicy.From(_options).Evaluate(_store.List(), _time.GetUtcNow(), justCreated);
        foreach (var decision in decisions.Where(d => !d.Keep))
        {
            try
            {
                _store.Delete(decision.Backup.Filename);
                _logger.LogInformation("Retention deleted {Backup}: {Reason}", decision.Backup.Filename, decision.Reason);
            }
            catch (Exception e) when (e is IOException or BackupException)
            {
                _logger.LogWarning(e, "Retention could not delete {Backup}", decision.Backup.Filename);
            }
        }
        return decisions;
    }

    private string DescribeIo(IOException e) =>
        e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            ? $"the disk is full ({e.Message}). Free space in {_store.Directory} (delete old backups or move Backup__Directory) and try again."
            : e.Message;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { /* the next start removes leftovers */ }
    }

    private static string SafeFileName(string name) => UnsafeChars().Replace(name, "_");

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex UnsafeChars();
}
