using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// An SFTP server through SSH.NET. The server's host key must match the configured <c>HostKeySha256</c> fingerprint
/// (never trusted on first use); a mismatch is refused with both fingerprints named. Objects are uploaded under a
/// <c>.tmp-*</c> name and renamed (POSIX rename, which replaces), so a listing never shows a partial file.
/// </summary>
public sealed class SftpDestination : IDestinationStorage
{
    private const string TempPrefix = ".tmp-";
    private readonly string _name;
    private readonly DestinationOptions _options;
    private readonly string _root;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _madeFolders =
        new(StringComparer.Ordinal);
    private SftpClient? _client;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SftpClient, object> _abandoned = [];

    public SftpDestination(string name, DestinationOptions options)
    {
        (_name, _options) = (name, options);
        _root = options.Path!.TrimEnd('/');
        Location = $"sftp://{options.Username}@{options.Host}:{options.Port}/{_root.TrimStart('/')}";
    }

    public string Location { get; }

    public async Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<RemoteObject>();
        var start = Join(prefix.TrimEnd('/'));
        if (!await Guard(client, "list", prefix,
            () => client.ExistsAsync(start, cancellationToken)).ConfigureAwait(false)) return result;
        var pending = new Stack<string>([start]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            await Guard(client, "list", prefix, async () =>
            {
                await foreach (var entry in client.ListDirectoryAsync(folder, cancellationToken).ConfigureAwait(false))
                {
                    if (entry.Name is "." or "..") continue;
                    if (entry.IsDirectory) pending.Push(entry.FullName);
                    else if (entry.IsRegularFile && !entry.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
                        result.Add(new RemoteObject(entry.FullName[(_root.Length + 1)..], entry.Length,
                            entry.LastWriteTimeUtc));
                }
                return 0;
            }).ConfigureAwait(false);
        }
        return result;
    }

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var path = Join(key);
        var folder = path[..path.LastIndexOf('/')];
        var temp = folder + "/" + TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-"
            + path[(path.LastIndexOf('/') + 1)..];
        try
        {
            var counted = new CountingStream(content);
            await Guard(client, "upload", key, () => RunBlocking(client, () =>
            {
                MakeFolders(client, folder);
                try { client.UploadFile(counted, temp, canOverride: true); }
                catch (SftpPathNotFoundException) when (counted.Count == 0)
                {
                    // the folder was removed since this destination made it: once more, from the top
                    _madeFolders.Clear();
                    MakeFolders(client, folder);
                    client.UploadFile(counted, temp, canOverride: true);
                }
            }, cancellationToken)).ConfigureAwait(false);
            if (counted.Count != length) throw new DestinationException(
                $"{_name}: {key} came out {counted.Count} bytes long instead of {length}; it was not kept.");
            Restore.FaultInjection.PauseAt("offsite-upload");
            await Guard(client, "finish the upload of", key, () => RunBlocking(client,
                () => client.RenameFile(temp, path, isPosix: true), cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // an abandoned or silent connection is not asked again: RemoveLeftoversAsync removes the temp later
            if (e is not OperationCanceledException && !_abandoned.TryGetValue(client, out _))
                try { client.DeleteFile(temp); }
                catch (Exception) { /* removed later by RemoveLeftoversAsync */ }
            throw;
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var stream = await Guard(client, "download", key,
            async () => (Stream)await client.OpenAsync(Join(key), FileMode.Open, FileAccess.Read,
            cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return new TranslatingReadStream(stream, e => Translate(client, "download", key, e), () => Abandon(client));
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await Guard(client, "delete", key, async () =>
        {
            // deleting what is not there is done, as the contract says: a sweep repeats what an interrupted one did
            try { await client.DeleteFileAsync(Join(key), cancellationToken).ConfigureAwait(false); }
            catch (SftpPathNotFoundException) { }
            return 0;
        }).ConfigureAwait(false);
    }

    public async Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await Guard(client, "tidy", "the unfinished uploads", async () =>
        {
            var removed = 0;
            if (!await client.ExistsAsync(_root, cancellationToken).ConfigureAwait(false)) return 0;
            var pending = new Stack<string>([_root]);
            while (pending.Count > 0)
            {
                await foreach (var entry in client.ListDirectoryAsync(pending.Pop(), cancellationToken)
                    .ConfigureAwait(false))
                {
                    if (entry.Name is "." or "..") continue;
                    if (entry.IsDirectory) pending.Push(entry.FullName);
                    else if (entry.Name.StartsWith(TempPrefix,
                        StringComparison.Ordinal) && DateTime.UtcNow - entry.LastWriteTimeUtc > olderThan)
                    {
                        await client.DeleteFileAsync(entry.FullName, cancellationToken).ConfigureAwait(false);
                        removed++;
                    }
                }
            }
            return removed;
        }).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Join(string key) => key.Length == 0 ? _root : _root + "/" + key;

    /// <summary>Makes <paramref name="folder"/> and its parents where missing; asks the server only about folders
    /// this destination has not seen yet (a copy puts thousands of objects into 256 folders).</summary>
    private void MakeFolders(SftpClient client, string folder)
    {
        if (_madeFolders.ContainsKey(folder)) return;
        if (!client.Exists(folder))
        {
            var parent = folder.LastIndexOf('/') is var slash and > 0 ? folder[..slash] : null;
            if (parent is not null) MakeFolders(client, parent);
            try { client.CreateDirectory(folder); }
            catch (SshException e) when (e is not SftpPermissionDeniedException)
            {
                if (!client.Exists(folder)) throw; // else made meanwhile
            }
        }
        _madeFolders.TryAdd(folder, 0);
    }

    private async Task<SftpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true }) return _client;
            _client?.Dispose();
            _client = await SftpConnector.ConnectAsync(_name, _options, cancellationToken).ConfigureAwait(false);
            return _client;
        }
        finally { _gate.Release(); }
    }

    /// <summary>Runs one of SSH.NET's blocking calls on a pool thread: they cost half the CPU of its async ones per
    /// request, and a copy makes thousands. A cancel abandons the connection and returns at once, so a server that
    /// stopped answering holds neither the caller nor, beyond the timeout, the thread.</summary>
    private async Task RunBlocking(SftpClient client, Action call, CancellationToken cancellationToken)
    {
        var work = Task.Run(call, CancellationToken.None);
        try { await work.WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !work.IsCompleted)
        {
            Abandon(client);
            _ = work.ContinueWith(t => t.Exception, TaskScheduler.Default); // its end is nobody's business now
            throw;
        }
    }

    /// <summary>Takes <paramref name="client"/> out of use: its socket is closed at once, which ends any call stalled
    /// on it, and the client is disposed in the background; the next call connects afresh.</summary>
    private void Abandon(SftpClient client)
    {
        if (!_abandoned.TryAdd(client, true)) return;
        Interlocked.CompareExchange(ref _client, null, client);
        SftpConnector.SocketOf(client)?.Dispose();
        _ = Task.Run(client.Dispose);
    }

    private async Task<T> Guard<T>(SftpClient client, string what, string key, Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (Exception e) when (Translate(client, what, key, e) is { } translated) { throw translated; }
    }

    private Task Guard(SftpClient client, string what, string key, Func<Task> call) =>
        Guard(client, what, key, async () => { await call().ConfigureAwait(false); return 0; });

    /// <summary>The operator's message for an SSH.NET failure, or null for what is not one.</summary>
    private DestinationException? Translate(SftpClient client, string what, string key, Exception e)
    {
        if (e is OperationCanceledException) return null;
        // the other transfers on a connection one of them abandoned fail with whatever SSH.NET throws once closed
        if (_abandoned.TryGetValue(client, out _)) return new DestinationException($"{_name}: the connection to the "
            + $"SFTP server {_options.Host}:{_options.Port} was closed (another transfer on it stopped) while trying "
            + $"to {what} {key}. The copy is retried later.", e);
        switch (e)
        {
            case SftpPathNotFoundException:
                return new DestinationException($"{_name}: {key} is missing at {Location}.", e);
            case SftpPermissionDeniedException:
                return new DestinationException($"{_name}: the SFTP server refused to {what} {key} (permission "
                    + $"denied). Give {_options.Username} write access to {_root}.", e, needsAction: true);
            case SshOperationTimeoutException or SocketException { SocketErrorCode: SocketError.TimedOut }:
                Abandon(client);
                return new DestinationException($"{_name}: the SFTP server {_options.Host}:{_options.Port} did not "
                    + $"answer for {_options.TimeoutSeconds} s while trying to {what} {key}, so the connection was "
                    + $"closed. Check that the server is up and the network to it; the copy is retried later (raise "
                    + $"Backup__Destinations__{_name}__TimeoutSeconds for a very slow link).", e);
            case SftpException: // the server answered (a full disk, a quota): the connection itself is fine
                return new DestinationException(
                    $"{_name}: could not {what} {key} at {Location}: {e.Message}. The copy is retried later.", e);
            case SshException or SocketException or IOException:
                Abandon(client);
                return new DestinationException(
                    $"{_name}: could not {what} {key} at {Location}: {e.Message}. The copy is retried later.", e);
            default:
                return null;
        }
    }

    /// <summary>Counts the bytes an upload took from the source.</summary>
    private sealed class CountingStream(Stream inner) : Core.IO.ReadOnlyStream
    {
        public long Count { get; private set; }
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override int Read(Span<byte> buffer) { var n = inner.Read(buffer); Count += n; return n; }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Count += n;
            return n;
        }
    }
}
