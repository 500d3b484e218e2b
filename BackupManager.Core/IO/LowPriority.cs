using System.Runtime.InteropServices;

namespace BackupManager.Core.IO;

/// <summary>
/// Linux scheduling for low-priority backups: nice 19 (the lowest CPU priority) and the idle I/O class, per thread
/// (Linux keeps both per thread; a new thread inherits its creator's), or for another process. Best effort: on other
/// systems, or when the kernel refuses, nothing happens and the backup runs at normal priority.
/// </summary>
public static partial class LowPriority
{
    private const int PrioProcess = 0, Nice = 19, YieldingNice = 5;
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

    /// <summary>Lowers the calling thread's CPU priority a little (nice 5), not its I/O class: a normal create's
    /// compression then gives way to the web app's requests on a busy machine and runs at full speed on an idle
    /// one.</summary>
    public static bool YieldCpuOnCurrentThread() =>
        OperatingSystem.IsLinux() && setpriority(PrioProcess, (uint)gettid(), YieldingNice) == 0;

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
