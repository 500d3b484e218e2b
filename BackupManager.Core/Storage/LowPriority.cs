using System.Runtime.InteropServices;

namespace BackupManager.Core.Storage;

/// <summary>
/// Linux scheduling for low-priority backups: nice 19 (the lowest CPU priority) and the idle I/O class, per thread
/// (Linux keeps both per thread; a new thread inherits its creator's), or for another process. Best effort: on other
/// systems, or when the kernel refuses, nothing happens and the backup runs at normal priority.
/// </summary>
public static partial class LowPriority
{
    private const int PrioProcess = 0, Nice = 19;
    private const int IoprioWhoProcess = 1, IoprioClassIdle = 3, IoprioClassShift = 13;

    /// <summary>Lowers the calling thread.</summary>
    public static bool ApplyToCurrentThread() => OperatingSystem.IsLinux() && Apply(gettid());

    /// <summary>Lowers another process (its main thread, and the threads it starts from then on).</summary>
    public static bool ApplyToProcess(int pid) => OperatingSystem.IsLinux() && Apply(pid);

    /// <summary>Lowers every thread of this process (for a console command that does nothing else).</summary>
    public static int ApplyToThisProcess()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var lowered = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            if (int.TryParse(Path.GetFileName(task), out var tid) && Apply(tid)) lowered++;
        return lowered;
    }

    /// <summary>The calling thread's nice value (for tests).</summary>
    public static int CurrentThreadNice()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        Marshal.SetLastPInvokeError(0);
        return getpriority(PrioProcess, (uint)gettid());
    }

    /// <summary>The I/O class of a thread or process (3 = idle), or -1 when unknown.</summary>
    public static int IoClassOf(int tid) => OperatingSystem.IsLinux() && IoprioGet(tid) is var value and >= 0
        ? (int)(value >> IoprioClassShift) : -1;

    private static bool Apply(int tid)
    {
        var niced = setpriority(PrioProcess, (uint)tid, Nice) == 0;
        var idle = IoprioSet(tid, (IoprioClassIdle << IoprioClassShift) | 0) == 0;
        return niced && idle;
    }

    // ioprio_set/ioprio_get have no libc wrapper: the raw system call numbers per architecture.
    private static long IoprioSet(int tid, int value) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => syscall(251, IoprioWhoProcess, tid, value),
        Architecture.Arm64 => syscall(30, IoprioWhoProcess, tid, value),
        _ => -1,
    };

    private static long IoprioGet(int tid) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => syscall(252, IoprioWhoProcess, tid, 0),
        Architecture.Arm64 => syscall(31, IoprioWhoProcess, tid, 0),
        _ => -1,
    };

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, uint who);

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a, long b, long c);
}

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
