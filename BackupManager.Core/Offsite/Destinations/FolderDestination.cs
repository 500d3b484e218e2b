using BackupManager.Core.IO;

namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// A mounted folder (NAS share, USB disk). Objects are files under the root; each is written as <c>.tmp-*</c> beside
/// its final name, flushed to disk and renamed, so a listing never shows a partial file (unsynced puts are flushed
/// together, by one syncfs, at <see cref="FlushAsync"/>). Files are 0600, folders 0700.
/// </summary>
public sealed class FolderDestination(string name, string root) : IDestinationStorage
{
    private const string TempPrefix = ".tmp-";

    public string Location => root;

    public Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        EnsureMounted();
        var folder = Path.Combine(root, prefix);
        IReadOnlyList<RemoteObject> result = !Directory.Exists(folder) ? [] : Directory
            .EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith(TempPrefix, StringComparison.Ordinal))
            .Select(f => new FileInfo(f))
            .Select(f => new RemoteObject(Path.GetRelativePath(root, f.FullName).Replace('\\', '/'), f.Length,
                f.LastWriteTimeUtc))
            .ToList();
        return Task.FromResult(result);
    }

    private volatile bool _unsynced;

    public Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        PutAsync(key, content, length, durable: true, cancellationToken);

    public Task PutUnsyncedAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        PutAsync(key, content, length, durable: false, cancellationToken);

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_unsynced) return Task.CompletedTask;
        EnsureMounted();
        // Cleared first: a put that ends while syncfs runs sets it again and is flushed next time, not forgotten.
        _unsynced = false;
        // One syncfs writes back every object put since the last flush, and their renames, in one journal commit.
        try { NativeFileSystem.SyncFileSystem(root); }
        catch
        {
            _unsynced = true;
            throw;
        }
        return Task.CompletedTask;
    }

    private async Task PutAsync(string key, Stream content, long length, bool durable,
        CancellationToken cancellationToken)
    {
        EnsureMounted();
        var path = Resolve(key);
        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(folder, TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-" + Path.GetFileName(path));
        try
        {
            PrivateFiles.CreateFolder(folder);
            // No buffer of its own (one 1 MiB array per object was most of a copy's garbage): the copy below writes
            // in pieces of up to 1 MiB, which the age stream fills whole.
            await using (var output = new FileStream(temp,
                PrivateFiles.Create(FileMode.CreateNew, FileAccess.Write, bufferSize: 0)))
            {
                await content.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
                if (output.Length != length) throw new DestinationException(
                    $"{name}: {key} came out {output.Length} bytes long instead of {length}.");
                Restore.FaultInjection.PauseAt("offsite-upload");
                if (durable) output.Flush(flushToDisk: true);
                else _unsynced = true;
            }
            File.Move(temp, path, overwrite: true);
            if (durable) NativeFileSystem.FsyncDirectory(folder);
        }
        catch (IOException e)
        {
            TryDelete(temp);
            throw new DestinationException(DescribeIo(e, key), e, needsAction: IsDiskFull(e));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        EnsureMounted();
        // Unbuffered: readers ask for whole age chunks or more, and a fetch opens thousands of objects.
        try { return Task.FromResult<Stream>(new FileStream(Resolve(key), FileMode.Open, FileAccess.Read,
            FileShare.Read, 0, FileOptions.SequentialScan)); }
        catch (FileNotFoundException e) { throw new DestinationException($"{name}: {key} is missing at {root}.", e); }
        catch (DirectoryNotFoundException e) { throw new DestinationException($"{name}: {key} is missing at {root}.",
            e); }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        EnsureMounted();
        var path = Resolve(key);
        try
        {
            // a missing folder means a missing object: deleting it is done, as the contract says
            if (Directory.Exists(Path.GetDirectoryName(path))) File.Delete(path);
        }
        catch (IOException e) { throw new DestinationException($"{name}: deleting {key} at {root} failed: {e.Message}",
            e); }
        return Task.CompletedTask;
    }

    public Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        EnsureMounted();
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(root, TempPrefix + "*", SearchOption.AllDirectories))
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > olderThan && TryDelete(file)) removed++;
        return Task.FromResult(removed);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string Resolve(string key)
    {
        // Keys are made by the off-site format, never by a user; still, nothing may leave the root.
        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(Path.GetFullPath(root).TrimEnd('/') + "/",
            StringComparison.Ordinal)) throw new ArgumentException($"key '{key}' leaves the destination", nameof(key));
        return path;
    }

    private void EnsureMounted()
    {
        if (!Directory.Exists(root))
            throw new DestinationException(
                $"{name}: the folder {root} does not exist. Is the disk or the network share mounted? Mount it (or "
                + $"create the folder), then copy again.");
    }

    private static bool IsDiskFull(IOException e) => e.HResult == 28 || e.Message.Contains("No space left",
        StringComparison.OrdinalIgnoreCase);

    private string DescribeIo(IOException e, string key) => IsDiskFull(e)
        ? $"{name}: the disk at {root} is full; {key} was not written (nothing half-written is left). Free space "
            + $"there or use a bigger disk, then copy again."
        : $"{name}: writing {key} at {root} failed: {e.Message}";

    private static bool TryDelete(string path)
    {
        try { File.Delete(path); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
