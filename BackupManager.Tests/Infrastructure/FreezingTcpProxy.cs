using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a real server that can stop forwarding in both directions while keeping
/// every connection open: to the client, a server that went silent (a hung NAS, a black-holed route).
/// </summary>
public sealed class FreezingTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly string _host;
    private readonly int _port;
    private readonly Task _loop;
    private volatile TaskCompletionSource _flowing = Flowing();

    public FreezingTcpProxy(string host, int port)
    {
        (_host, _port) = (host, port);
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many bytes went from the client to the server so far.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);
    private long _bytesUp;

    /// <summary>Stops forwarding: what either side sends stays in the proxy until <see cref="Thaw"/>.</summary>
    public void Freeze() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Thaw() => _flowing.TrySetResult();

    /// <summary>Freezes by itself once <paramref name="bytes"/> more have gone up: mid-object, wherever the client is.
    /// </summary>
    public Task FreezeAfterUp(long bytes)
    {
        Interlocked.Exchange(ref _freezeAt, BytesUp + bytes);
        return _frozen.Task;
    }

    private long _freezeAt = long.MaxValue;
    private readonly TaskCompletionSource _frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource Flowing()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try { await server.ConnectAsync(_host, _port, _stop.Token); }
            catch (Exception)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            _sockets.Add(client);
            _sockets.Add(server);
            _ = Task.Run(() => PumpAsync(client, server, up: true));
            _ = Task.Run(() => PumpAsync(server, client, up: false));
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool up)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                await _flowing.Task.WaitAsync(_stop.Token);
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0) break;
                // what arrived while frozen is held, not sent
                await _flowing.Task.WaitAsync(_stop.Token);
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                if (up && Interlocked.Add(ref _bytesUp, read) >= Interlocked.Read(ref _freezeAt))
                {
                    Interlocked.Exchange(ref _freezeAt, long.MaxValue);
                    Freeze();
                    _frozen.TrySetResult();
                }
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception) { /* either side closed, or the proxy stopped */ }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _loop; }
        catch (Exception) { /* stopping */ }
        foreach (var socket in _sockets) socket.Dispose();
        _stop.Dispose();
    }
}
