using Microsoft.Extensions.Logging;

namespace BackupManager.Core.IO;

/// <summary>
/// A token bucket shared by everything a low-priority backup reads (the dump's pipe, the files), that follows the
/// server's load. Contract: while the mode is <see cref="ReadThrottleMode.Busy"/> or
/// <see cref="ReadThrottleMode.Fixed"/>, reading waits so that the average since that mode began stays under
/// <see cref="BytesPerSecond"/>; while it is <see cref="ReadThrottleMode.Quiet"/>, reading never waits. Without a
/// signal the mode is Fixed. With one, the mode starts Busy and follows the signal, sampled every
/// <see cref="SampleInterval"/> on a task of its own; when the signal fails the mode becomes Fixed (logged once) and
/// the backup goes on. Thread-safe; dispose stops the sampling and disposes the signal. Waiting on the dump's pipe
/// makes pg_dump wait, and with it the server's backend that serves it, which niceness cannot reach (not our process).
/// </summary>
public sealed class ReadThrottle : IAsyncDisposable
{
    /// <summary>How often the signal is asked: a switch follows the load within about this plus the signal's
    /// window.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private readonly ILoadSignal? _signal;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _following = Task.CompletedTask;
    private long _start = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _taken;
    private volatile ReadThrottleMode _mode;

    /// <summary>A fixed rate: every read is limited to <paramref name="bytesPerSecond"/>.</summary>
    public ReadThrottle(long bytesPerSecond) => (BytesPerSecond, _mode) = (bytesPerSecond, ReadThrottleMode.Fixed);

    /// <summary>Limited to <paramref name="busyBytesPerSecond"/> while <paramref name="signal"/> says busy, unlimited
    /// while it says quiet; takes ownership of the signal.</summary>
    public ReadThrottle(long busyBytesPerSecond, ILoadSignal signal, ILogger logger,
        TimeSpan? sampleInterval = null)
    {
        (BytesPerSecond, _mode, _signal) = (busyBytesPerSecond, ReadThrottleMode.Busy, signal);
        _following = Task.Run(() => FollowAsync(signal, logger, sampleInterval ?? SampleInterval, _stop.Token));
    }

    /// <summary>The limit while busy (and the fixed rate).</summary>
    public long BytesPerSecond { get; }

    /// <summary>What reading is subject to right now.</summary>
    public ReadThrottleMode Mode => _mode;

    /// <summary>How often the mode changed between Busy and Quiet (for the log and tests).</summary>
    public int Switches { get; private set; }

    /// <summary>Accounts for <paramref name="bytes"/> and returns how long the caller must wait first.</summary>
    public TimeSpan Take(long bytes)
    {
        lock (_lock)
        {
            if (_mode == ReadThrottleMode.Quiet) return TimeSpan.Zero;
            _taken += bytes;
            var due = TimeSpan.FromSeconds((double)_taken / BytesPerSecond);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_start);
            return due > elapsed ? due - elapsed : TimeSpan.Zero;
        }
    }

    private void Switch(ReadThrottleMode mode)
    {
        lock (_lock)
        {
            if (_mode == mode || _mode == ReadThrottleMode.Fixed) return;
            // A limited stretch starts with an empty bucket: no debt from before, no credit from the quiet time.
            (_start, _taken, _mode) = (System.Diagnostics.Stopwatch.GetTimestamp(), 0, mode);
            if (mode != ReadThrottleMode.Fixed) Switches++;
        }
    }

    private async Task FollowAsync(ILoadSignal signal, ILogger logger,
        TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do Switch(await signal.IsBusyAsync(cancellationToken).ConfigureAwait(false)
                ? ReadThrottleMode.Busy : ReadThrottleMode.Quiet);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        // Whatever a sample throws while the backup ends (a cancelled query, a closing connection) is no failure.
        catch (Exception) when (cancellationToken.IsCancellationRequested) { }
        catch (Exception e)
        {
            // The reason, not the stack: the operator reads this on a console (and the backup goes on).
            logger.LogWarning(
                "A low-priority backup could not watch the database server's load ({Reason}); it reads at the fixed "
                + "rate of {BytesPerSecond} bytes per second instead", e.Message, BytesPerSecond);
            Switch(ReadThrottleMode.Fixed);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _following.ConfigureAwait(false);
        if (_signal is not null) await _signal.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>A write-through stream that waits as the throttle says before passing each write on.</summary>
    public Stream Wrap(Stream inner) => new ThrottledStream(inner, this);

    private sealed class ThrottledStream(Stream inner, ReadThrottle throttle) : Stream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (throttle.Take(buffer.Length) is { Ticks: > 0 } wait) Thread.Sleep(wait);
            inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            if (throttle.Take(buffer.Length) is { Ticks: > 0 } wait) await Task.Delay(wait,
                cancellationToken).ConfigureAwait(false);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count),
            cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            if (throttle.Take(n) is { Ticks: > 0 } wait) Thread.Sleep(wait);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (throttle.Take(n) is { Ticks: > 0 } wait) await Task.Delay(wait,
                cancellationToken).ConfigureAwait(false);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count),
            cancellationToken).AsTask();

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
