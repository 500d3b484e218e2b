using BackupManager.Core.Archive;
using BackupManager.Core.Files;
using BackupManager.Core.IO;

namespace BackupManager.Core.Engine;

/// <summary>The create path's file half: each scanned file streamed into the archive, with a warning for each one
/// that vanished, could not be read or changed while it was read.</summary>
internal static class ArchiveFileAdder
{
    /// <summary>Adds every file of each root's walk, holding no list of them; stops early when the dump has already
    /// failed (the backup cannot succeed). A quicker walk beside it measures the bytes to add, only for the
    /// progress, which has no fraction until that walk ends.</summary>
    public static async Task<List<ManifestRoot>> AddFilesAsync(BackupArchiveWriter writer, FileTreeScanner scanner,
        IReadOnlyList<(FileRoot root, string live)> sources, Task? dump, List<string> warnings,
        IProgress<BackupProgress>? progress, ReadThrottle? throttle, CancellationToken cancellationToken)
    {
        using var stopMeasuring = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // On a thread of its own: a pool thread held for seconds would delay the create's own continuations.
        var measuring = Task.Factory.StartNew(
            () => sources.Sum(s => scanner.MeasureBytes(s.root, stopMeasuring.Token)), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            long doneBytes = 0;
            var roots = new List<ManifestRoot>();
            foreach (var (root, live) in sources)
            {
                int count = 0;
                long bytes = 0;
                foreach (var file in Prefetched(scanner.Scan(root, warnings)))
                {
                    if (dump is { IsFaulted: true }) await dump.ConfigureAwait(false);
                    if (file.IsDirectory)
                    {
                        writer.AddDirectory(
                            $"{ArchivePath.FilesPrefix}{file.Root.Name}/{file.RelativePath}"
                                + $"{(file.RelativePath.Length == 0 ? "" : "/")}",
                            new DateTimeOffset(file.LastWriteUtc, TimeSpan.Zero), AttributesOf(file));
                        continue;
                    }
                    var added = await AddFileAsync(writer, file, warnings, throttle,
                        cancellationToken).ConfigureAwait(false);
                    if (added is not null) { count++; bytes += added.Size; }
                    doneBytes += file.Size;
                    double? fraction = !measuring.IsCompletedSuccessfully ? null
                        : measuring.Result == 0 ? 1 : Math.Min(1, (double)doneBytes / measuring.Result);
                    progress?.Report(new BackupProgress("create", "Adding files", fraction, file.RelativePath));
                }
                if (Directory.Exists(root.FullPath)) roots.Add(new ManifestRoot(root.Name, live, count, bytes));
            }
            return roots;
        }
        finally
        {
            // The measure only paces the progress: its end is awaited, so no walk outlives the create, and its failure
            // (a folder removed under it) is observed but not judged.
            await stopMeasuring.CancelAsync().ConfigureAwait(false);
            await measuring.ContinueWith(t => _ = t.Exception, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private const long UncachedReadThreshold = 1 << 20;
    private const int PrefetchAhead = 32;

    /// <summary>
    /// Small files are read one after the other, each a separate wait on the disk (about 1 ms on a cold virtual disk or
    /// a NAS). Announcing the next ones to the kernel keeps several reads in flight. Large files stream past the page
    /// cache, where a prefetch would be read twice. Gives the files as they come, each announced 32 files ahead.
    /// </summary>
    private static IEnumerable<ScannedFile> Prefetched(IEnumerable<ScannedFile> files)
    {
        var window = new Queue<ScannedFile>(PrefetchAhead + 1);
        foreach (var file in files)
        {
            if (file.Size is > 0 and < UncachedReadThreshold) NativeFileSystem.TryPrefetch(file.FullPath);
            window.Enqueue(file);
            if (window.Count > PrefetchAhead) yield return window.Dequeue();
        }
        while (window.TryDequeue(out var file)) yield return file;
    }

    private static async Task<ManifestEntry?> AddFileAsync(BackupArchiveWriter writer, ScannedFile file,
        List<string> warnings, ReadThrottle? throttle, CancellationToken cancellationToken)
    {
        Stream source;
        try
        {
            // Large files stream past the page cache (cheaper, and they do not evict the database); small ones are
            // read through it, where a file read recently costs no disk access.
            source = file.Size >= UncachedReadThreshold
                ? new UncachedFileReader(file.FullPath, FileShare.ReadWrite | FileShare.Delete)
                : new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                    1, FileOptions.SequentialScan);
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
            var entry = await writer.AddAsync(entryName, CompressionPolicy.For(file.RelativePath),
                new DateTimeOffset(file.LastWriteUtc, TimeSpan.Zero), file.Size,
                (destination, token) => source.CopyToAsync(destination, BackupArchiveWriter.BufferSize, token),
                    cancellationToken, AttributesOf(file)).ConfigureAwait(false);
            var after = new FileInfo(file.FullPath);
            if (!after.Exists || after.Length != file.Size || after.LastWriteTimeUtc != file.LastWriteUtc
                || entry.Size != file.Size)
                warnings.Add($"{file.FullPath} changed while it was read; the backup holds the bytes read "
                    + $"(checksummed), which may mix old and new content.");
            return entry;
        }
    }

    private static ZipEntryAttributes AttributesOf(ScannedFile file) => new(file.Mode, file.Uid, file.Gid);
}
