using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Files;
using BackupManager.Core.IO;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Engine;

/// <summary>
/// The create path: the database dump and the configured folders into one sealed archive, flushed to disk, read back
/// in full, committed by rename, and only then retention. Also writes the pre-restore safety backup from a
/// parked state. Runs only under a lease the caller holds.
/// </summary>
internal sealed class BackupCreator(BackupOptions options, IBackupStore store, TimeProvider time, ILogger logger,
    IDatabaseDumper? dumper, IReadOnlyList<FileRoot> roots, ArchiveSigner? signer, BackupFolderChanges changes)
{
    private static readonly string AppVersion =
        typeof(BackupCreator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0";

    private static readonly Regex UnsafeChars = new("[^A-Za-z0-9_.-]", RegexOptions.Compiled);

    private readonly FileTreeScanner _scanner = new(options.Exclude, options.Directory);

    /// <summary>Between sealing a new archive and reading it back: where a test plays a failing disk.</summary>
    internal Action<string>? BeforeReadBack { get; set; }

    /// <summary>Makes a backup of the live state, or of <paramref name="parked"/> (read from its parked names,
    /// recorded under the live ones); it joins the folder only once read back in full, and only then does retention
    /// run: a backup that cannot be read must never be the reason a good one is deleted.</summary>
    public async Task<BackupInfo> CreateAsync(CreateBackupRequest request, BackupOperationLock.Lease lease,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken, ParkedState? parked = null)
    {
        lease.EnsureHeld();
        var created = await CreateLockedAsync(request, progress, cancellationToken, parked).ConfigureAwait(false);
        changes.ApplyRetention(created.Filename);
        return created;
    }

    /// <summary>Makes a backup of the live state, or of <paramref name="parked"/> (read from its parked names, recorded
    /// under the live ones).</summary>
    private async Task<BackupInfo> CreateLockedAsync(CreateBackupRequest request, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken, ParkedState? parked = null)
    {
        var (withDatabase, withFiles) = ResolveScope(request.Scope);
        progress?.Report(new BackupProgress("create", "Preparing"));
        var warnings = new List<string>();
        var createdAt = parked?.ParkedAt ?? time.GetUtcNow();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // Low priority: the dump and the files share one read budget, limited while the server serves others;
        // pg_dump and our compression threads are niced.
        await using var throttle = request.Priority != BackupPriority.Low ? null
            : options.LowPriorityFollowsLoad && dumper?.WatchServerLoad() is { } signal
                ? new ReadThrottle(options.LowPriorityBytesPerSecond, signal, logger)
                : new ReadThrottle(options.LowPriorityBytesPerSecond);
        var temp = store.NewTempPath();
        var dumpTemp = temp + ".dump";
        using var stopDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The database is dumped and deflated (into a spill file, then into its entry) while the files are written:
        // different cores.
        // It starts first: the dump is the longest part of a backup.
        PrecompressedSink? dumpSink = null;
        Task<PrecompressedContent>? dump = null;
        DumpRowCounter? rowCounter = null;
        string? snapshotLsn = null;
        long? databaseBytes = null;
        try
        {
            if (withDatabase)
            {
                dumpSink = new PrecompressedSink(dumpTemp);
                dump = Task.Run(() => PrecompressedFile.WriteAsync(dumpSink, options.DumpCompressionLevel,
                    (destination, token) =>
                        dumper!.DumpSnapshotAsync(
                            rowCounter = new DumpRowCounter(throttle?.Wrap(destination) ?? destination),
                            parked?.Database, throttle is not null, lsn => snapshotLsn = lsn, token),
                    stopDump.Token, lowPriority: throttle is not null), CancellationToken.None);
            }
            // Described while the dump starts (it mostly waits on the server).
            var describing = withDatabase ? Task.Run(() => dumper!.DescribeAsync(parked?.Database, cancellationToken),
                CancellationToken.None) : null;
            var sources = !withFiles ? [] : parked is null ? roots.Select(root => (root, live: root.FullPath)).ToList()
                : parked.Folders.Select(f => (root: new FileRoot(FileRoot.NameOf(f.LiveFolder), f.ParkedFolder),
                    live: f.LiveFolder)).ToList();
            var database = describing is null ? null : await describing.ConfigureAwait(false);
            BackupManifest manifest;
            ArchiveSummary summary;
            await using (var output = new UncachedFileWriter(temp))
            {
                using var writer = new BackupArchiveWriter(output);
                if (database is not null) progress?.Report(new BackupProgress("create",
                    "Dumping the database and adding files", null, database.Name));
                var roots = await ArchiveFileAdder.AddFilesAsync(writer, _scanner, sources, dump, warnings,
                    progress, throttle, cancellationToken).ConfigureAwait(false);
                ManifestDatabase? databaseRecord = null;
                if (database is not null)
                {
                    var entryName = $"{ArchivePath.DatabasePrefix}{UnsafeChars.Replace(database.Name, "_")}.dump";
                    // The roles the database needs, as a script an operator can run with psql on a new server.
                    var rolesScript = System.Text.Encoding.UTF8.GetBytes(RequiredRoles.ToPsqlScript(database.Roles,
                        database.Name, createdAt));
                    await writer.AddAsync(ArchivePath.RolesEntry, CompressionLevel.Fastest, createdAt,
                        rolesScript.Length,
                        (destination, token) => destination.WriteAsync(rolesScript, token).AsTask(),
                            cancellationToken).ConfigureAwait(false);
                    progress?.Report(new BackupProgress("create", "Adding the database dump as it is written", null,
                        database.Name));
                    // The files are in: the dump's entry takes what is spilled so far and then the rest as it comes.
                    var streaming = dumpSink!.TryHandOff(() => writer.OpenPrecompressed(entryName, createdAt,
                        deflated: options.DumpCompressionLevel > 0));
                    var dumped = await dump!.ConfigureAwait(false);
                    databaseBytes = dumped.Size;
                    if (streaming is not null) writer.CompletePrecompressed(entryName, createdAt, streaming, dumped);
                    // The dump finished first: its entry is written from the complete spill file.
                    else await writer.AddPrecompressedAsync(entryName, createdAt, dumped, dumpTemp,
                        cancellationToken).ConfigureAwait(false);
                    dumpSink.Dispose();
                    BackupFolderChanges.TryDelete(dumpTemp);
                    databaseRecord = new ManifestDatabase(database.Name, database.ServerVersion,
                        database.DumpToolVersion, entryName)
                    {
                        State = database.State,
                        Roles = database.Roles,
                        RolesEntry = ArchivePath.RolesEntry,
                        RowCounts = rowCounter?.Counts,
                        SnapshotLsn = snapshotLsn,
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
            ArchiveSummary.SealFile(temp, summary, signer); // flushes the whole file to disk
            BeforeReadBack?.Invoke(temp);
            progress?.Report(new BackupProgress("create", "Reading the new backup back to verify it"));
            await NewArchiveReadBack.RunAsync(temp, cancellationToken).ConfigureAwait(false);
            var filename = changes.Commit(temp, createdAt);
            var size = new FileInfo(Path.Combine(store.Directory, filename)).Length;
            logger.LogInformation(
                "Created backup {Backup} ({Trigger}, {Contains}, {Size} bytes, {Warnings} warnings) for {User}",
                filename, request.Trigger, string.Join("+", manifest.Contains), size, warnings.Count,
                    request.RequestedBy);
            if (throttle is { Mode: not ReadThrottleMode.Fixed }) logger.LogInformation(
                "Backup {Backup} read at low priority: {Switches} switches between busy and quiet, {Mode} at the end",
                filename, throttle.Switches, throttle.Mode);
            foreach (var warning in warnings) logger.LogWarning("Backup {Backup}: {Warning}", filename, warning);
            return new BackupInfo(filename, size, createdAt, request.Trigger, manifest.Contains, request.RequestedBy,
                false, true, warnings.Count);
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
            BackupFolderChanges.TryDelete(temp);
            BackupFolderChanges.TryDelete(dumpTemp);
            if (e is BackupException) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
            if (e is IOException io) throw new BackupException(BackupErrorKind.Environment,
                $"The backup was not created: {changes.DescribeIo(io)}", io);
            if (e is OperationCanceledException) throw new BackupException(BackupErrorKind.Cancelled,
                "The backup was cancelled; no file was kept.", e);
            throw;
        }
    }

    private (bool Database, bool Files) ResolveScope(BackupScope scope)
    {
        var database = scope != BackupScope.FilesOnly && dumper is not null;
        var files = scope != BackupScope.DatabaseOnly && roots.Count > 0;
        if (scope == BackupScope.DatabaseOnly && !database)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No database is configured. Set ConnectionStrings__Default or Backup__Database to back up a database.");
        if (scope == BackupScope.FilesOnly && !files)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No folders are configured. Set Backup__Paths__0 (and __1, …) to back up files.");
        if (!database && !files)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "There is nothing to back up: configure a database (ConnectionStrings__Default) and/or folders "
                + "(Backup__Paths__0).");
        return (database, files);
    }
}
