using System.Diagnostics;
using System.Security.Cryptography;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// The SFTP destination against the test sshd behind a proxy that goes silent mid-object (a hung NAS, a dropped
/// route): a put or a read ends within <c>TimeoutSeconds</c> with a message that says so, a cancel ends it at once,
/// nothing appears under the final name, and the next call connects afresh.
/// </summary>
public sealed class SftpStalledServerTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new();
    private FreezingTcpProxy _proxy = null!;
    private readonly List<IDestinationStorage> _others = [];
    private IDestinationStorage _storage = null!;
    private readonly byte[] _content = TestFolder.RandomBytes(24_000_000);
    private static readonly string Key = OffsiteFormat.ObjectKey(Convert.ToHexStringLower(SHA256.HashData([1])));

    public Task InitializeAsync()
    {
        var direct = TestDestinations.SftpAt(_folder.Sub("sftp-root"));
        _proxy = new FreezingTcpProxy(direct.Host!, direct.Port);
        direct.Port = _proxy.Port;
        direct.TimeoutSeconds = 3;
        _storage = OffsiteService.OpenStorage("nas", direct);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        // the proxy first: its closed sockets end whatever a failing destination still waits on
        // (on a pool thread with a bound, so a destination that hangs fails this test instead of stalling the run)
        await Task.Run(async () =>
        {
            await _proxy.DisposeAsync();
            foreach (var storage in _others.Append(_storage)) await storage.DisposeAsync();
        }).WaitAsync(TimeSpan.FromSeconds(30));
        _folder.Dispose();
    }

    [Fact]
    public async Task A_put_to_a_server_that_goes_silent_mid_object_fails_within_the_timeout_and_says_so()
    {
        var frozen = _proxy.FreezeAfterUp(4_000_000);
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<DestinationException>(() => _storage
            .PutAsync(Key, new MemoryStream(_content), _content.Length, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.True(frozen.IsCompleted, "the proxy never froze: the put was over before the server went silent");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Contains("did not answer for 3 s while trying to upload", e.Message);
        Assert.Contains("retried later", e.Message);
        Assert.False(e.NeedsAction);
        await AfterTheServerAnswersAgainAPutSucceedsAndOnlyItIsThere();
    }

    [Fact]
    public async Task A_put_cancelled_while_the_server_is_silent_ends_at_once()
    {
        var storage = OffsiteService.OpenStorage("nas",
            WithTimeout(TestDestinations.SftpAt(_folder.Sub("sftp-root")), 600));
        _others.Add(storage);
        var frozen = _proxy.FreezeAfterUp(4_000_000);
        using var cancel = new CancellationTokenSource();
        var put = storage.PutAsync(Key, new MemoryStream(_content), _content.Length, cancel.Token);
        await frozen.WaitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();

        // a timeout here is a put that waited on the silent server after it was cancelled
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        await AfterTheServerAnswersAgainAPutSucceedsAndOnlyItIsThere(storage);
    }

    [Fact]
    public async Task Puts_sharing_a_connection_that_goes_silent_each_fail_with_a_destination_error()
    {
        var frozen = _proxy.FreezeAfterUp(6_000_000);
        var puts = Enumerable.Range(1, 3).Select(i => _storage.PutAsync(
            OffsiteFormat.ObjectKey(Convert.ToHexStringLower(SHA256.HashData([(byte)(i + 10)]))),
            new MemoryStream(_content), _content.Length, CancellationToken.None)).ToList();

        foreach (var put in puts)
        {
            // one of them times out; the others fail on the connection it closed, with the operator's message too
            var e = await Assert.ThrowsAsync<DestinationException>(() => put.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("retried later", e.Message);
        }
        Assert.True(frozen.IsCompleted);
        await AfterTheServerAnswersAgainAPutSucceedsAndOnlyItIsThere();
    }

    [Fact]
    public async Task A_read_from_a_server_that_goes_silent_fails_within_the_timeout_and_says_so()
    {
        await _storage.PutAsync(Key, new MemoryStream(_content), _content.Length, CancellationToken.None);
        var stream = await _storage.OpenReadAsync(Key, CancellationToken.None);
        var buffer = new byte[1 << 20];
        await stream.ReadExactlyAsync(buffer);
        _proxy.Freeze();
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<DestinationException>(async () =>
        {
            while (await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60)) > 0) { }
        });
        // bounded, so a stream that waits forever on its close fails this test instead of stalling the run
        await Task.Run(() => stream.DisposeAsync().AsTask()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Contains("did not answer for 3 s while trying to download", e.Message);
        _proxy.Thaw();
        Assert.Equal(_content, await RemoteView.ReadAllAsync(_storage, Key, 64L << 20, CancellationToken.None));
    }

    [Fact]
    public async Task The_socket_under_the_ssh_client_is_found_and_bounded_by_the_timeout()
    {
        // the one handle on a send stalled on a full socket; an SSH.NET that moved it must fail here, not in the field
        using var client = await SftpConnector.ConnectAsync("nas", WithTimeout(
            TestDestinations.SftpAt(_folder.Sub("sftp-root")), 7), CancellationToken.None);

        var socket = SftpConnector.SocketOf(client);

        Assert.NotNull(socket);
        Assert.True(socket.Connected);
        Assert.Equal(7_000, socket.SendTimeout);
    }

    private DestinationOptions WithTimeout(DestinationOptions options, int seconds)
    {
        options.Port = _proxy.Port;
        options.TimeoutSeconds = seconds;
        return options;
    }

    private async Task AfterTheServerAnswersAgainAPutSucceedsAndOnlyItIsThere(IDestinationStorage? storage = null)
    {
        storage ??= _storage;
        _proxy.Thaw();
        var next = TestFolder.RandomBytes(100_000);
        await storage.PutAsync(Key, new MemoryStream(next), next.Length, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));

        // the silent put left at most a temporary upload, which a listing never shows
        var listed = Assert.Single(await storage.ListAsync("", CancellationToken.None));
        Assert.Equal((Key, 100_000L), (listed.Key, listed.Size));
        Assert.Equal(next, await RemoteView.ReadAllAsync(storage, Key, 64L << 20, CancellationToken.None));
    }
}
