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
    private string? _offeredFingerprint;

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
        if (!await Guard("list", prefix,
            () => client.ExistsAsync(start, cancellationToken)).ConfigureAwait(false)) return result;
        var pending = new Stack<string>([start]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            await Guard("list", prefix, async () =>
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
            // SSH.NET's blocking calls cost half the CPU of its async ones per request, and a copy makes thousands.
            await Guard("upload", key, () => Task.Run(() =>
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
                return 0;
            }, cancellationToken)).ConfigureAwait(false);
            if (counted.Count != length) throw new DestinationException(
                $"{_name}: {key} came out {counted.Count} bytes long instead of {length}; it was not kept.");
            Restore.FaultInjection.PauseAt("offsite-upload");
            await Guard("finish the upload of", key,
                () => Task.Run(() => { client.RenameFile(temp, path, isPosix: true); return 0; },
                cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            try { if (client.IsConnected) client.DeleteFile(temp); }
            catch (Exception) { /* removed later by RemoveLeftoversAsync */ }
            throw;
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await Guard("download", key,
            async () => (Stream)await client.OpenAsync(Join(key), FileMode.Open, FileAccess.Read,
            cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await Guard("delete", key, async () =>
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
        var removed = 0;
        if (!await client.ExistsAsync(_root, cancellationToken).ConfigureAwait(false)) return 0;
        var pending = new Stack<string>([_root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            await foreach (var entry in client.ListDirectoryAsync(folder, cancellationToken).ConfigureAwait(false))
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
            AuthenticationMethod method = !string.IsNullOrWhiteSpace(_options.PrivateKeyFile)
                ? new PrivateKeyAuthenticationMethod(_options.Username, new PrivateKeyFile(_options.PrivateKeyFile))
                : new PasswordAuthenticationMethod(_options.Username, _options.Password);
            var connection = new ConnectionInfo(_options.Host!, _options.Port, _options.Username!, method)
                { Timeout = TimeSpan.FromSeconds(30) };
            // AES-GCM first where the server has it: one pass of the CPU's AES instructions, where CTR + HMAC is two.
            foreach (var (cipher, position) in new[] { ("aes128-gcm@openssh.com", 0), ("aes256-gcm@openssh.com", 1) })
                if (connection.Encryptions.ContainsKey(cipher)) connection.Encryptions.SetPosition(cipher, position);
            var client = new SftpClient(connection);
            client.HostKeyReceived += (_, e) =>
            {
                _offeredFingerprint = "SHA256:" + e.FingerPrintSHA256;
                e.CanTrust = string.Equals(_offeredFingerprint, _options.HostKeySha256, StringComparison.Ordinal);
            };
            try { await client.ConnectAsync(cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is SshConnectionException && _offeredFingerprint is not null
                && _offeredFingerprint != _options.HostKeySha256)
            {
                client.Dispose();
                throw new DestinationException(
                    $"{_name}: the SFTP server {_options.Host}:{_options.Port} offered the host key "
                    + $"{_offeredFingerprint}, "
                    + $"but Backup__Destinations__{_name}__HostKeySha256 expects {_options.HostKeySha256}. Nothing "
                        + $"was sent. If the server's key was changed on purpose, "
                    + "confirm the new fingerprint with its administrator and update the setting; otherwise someone "
                        + "may be intercepting the connection.", e, needsAction: true);
            }
            catch (SshAuthenticationException e)
            {
                client.Dispose();
                throw new DestinationException(
                    $"{_name}: the SFTP server {_options.Host}:{_options.Port} refused the login of "
                    + $"{_options.Username} ({e.Message}). "
                    + $"Check Backup__Destinations__{_name}__Username and the private key (its public half must be in "
                        + $"the server's authorized_keys).", e, needsAction: true);
            }
            catch (Exception e) when (
                e is SocketException or SshException or TimeoutException or SshOperationTimeoutException)
            {
                client.Dispose();
                throw new DestinationException(
                    $"{_name}: the SFTP server {_options.Host}:{_options.Port} cannot be reached ({e.Message}). Check "
                    + $"the network and the server; the copy is retried later.", e);
            }
            _client = client;
            return client;
        }
        finally { _gate.Release(); }
    }

    private async Task<T> Guard<T>(string what, string key, Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (SftpPathNotFoundException e) { throw new DestinationException(
            $"{_name}: {key} is missing at {Location}.", e); }
        catch (SftpPermissionDeniedException e) { throw new DestinationException(
            $"{_name}: the SFTP server refused to {what} {key} (permission denied). Give {_options.Username} write "
            + $"access to {_root}.", e, needsAction: true); }
        catch (Exception e) when (e is SshException or SocketException or IOException)
        {
            throw new DestinationException(
                $"{_name}: could not {what} {key} at {Location}: {e.Message}. The copy is retried later.", e);
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
