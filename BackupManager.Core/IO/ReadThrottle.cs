namespace BackupManager.Core.IO;

/// <summary>
/// A token bucket shared by everything a low-priority backup reads (the dump's pipe, the files): reading waits so that
/// the average stays under <c>bytesPerSecond</c>. Waiting on the dump's pipe makes pg_dump wait, and with it the
/// database server's backend that serves it, which niceness cannot reach (it is not our process).
/// </summary>
public sealed class ReadThrottle(long bytesPerSecond)
{
    private readonly Lock _lock = new();
    private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _taken;

    public long BytesPerSecond { get; } = bytesPerSecond;

    /// <summary>Accounts for <paramref name="bytes"/> and returns how long the caller must wait first.</summary>
    public TimeSpan Take(long bytes)
    {
        lock (_lock)
        {
            _taken += bytes;
            var due = TimeSpan.FromSeconds((double)_taken / BytesPerSecond);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_start);
            return due > elapsed ? due - elapsed : TimeSpan.Zero;
        }
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
