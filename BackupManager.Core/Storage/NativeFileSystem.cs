using System.Runtime.InteropServices;

namespace BackupManager.Core.Storage;

/// <summary>
/// Durability calls .NET does not expose: fsync of a directory (so a rename survives a power cut) and syncfs (one
/// flush for thousands of restored files instead of one fsync each).
/// </summary>
internal static partial class NativeFileSystem
{
    private const int ReadOnly = 0, Directory = 0x10000;

    /// <summary>Makes the entries of <paramref name="directory"/> (creations, renames, deletions) durable.</summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(directory, ReadOnly | Directory);
        if (fd < 0) return;
        try { fsync(fd); } finally { close(fd); }
    }

    /// <summary>Flushes every dirty page of the file system that holds <paramref name="path"/>.</summary>
    public static void SyncFileSystem(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(path, ReadOnly);
        if (fd < 0) return;
        try { syncfs(fd); } finally { close(fd); }
    }

    /// <summary>
    /// Asks for a 1 MiB pipe buffer instead of 64 KiB, so a dump streams in a few hundred large reads rather than
    /// tens of thousands of small ones (each a context switch). Best effort: a refusal keeps the default.
    /// </summary>
    public static void TryEnlargePipe(Stream stream)
    {
        if (!OperatingSystem.IsLinux() || stream is not System.IO.Pipes.PipeStream pipe) return;
        const int setPipeSize = 1031; // F_SETPIPE_SZ
        var handle = pipe.SafePipeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            fcntl((int)handle.DangerousGetHandle(), setPipeSize, 1 << 20);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Turns on O_DIRECT for an open file, so reads and writes go between the caller's aligned buffers and the disk
    /// without passing through the page cache. False where the file system or the platform refuses it (tmpfs, not Linux).
    /// </summary>
    public static bool TryBypassPageCache(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return false;
        // O_DIRECT's value differs between architectures.
        var direct = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 or Architecture.X86 => 0x4000,
            Architecture.Arm64 or Architecture.Arm => 0x10000,
            _ => 0,
        };
        if (direct == 0) return false;
        const int getFlags = 3, setFlags = 4; // F_GETFL, F_SETFL
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            var flags = fcntl(fd, getFlags, 0);
            return flags >= 0 && fcntl(fd, setFlags, flags | direct) == 0;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syncfs(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
