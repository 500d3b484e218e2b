using System.Runtime.InteropServices;

namespace BackupManager.Core.IO;

/// <summary>
/// Durability calls .NET does not expose: fsync of a directory (so a rename survives a power cut) and syncfs (one
/// flush for thousands of restored files instead of one fsync each).
/// </summary>
internal static partial class NativeFileSystem
{
    private const int ReadOnly = 0, Directory = 0x10000, NonBlocking = 0x800, CloseOnExec = 0x80000;

    /// <summary>Makes the entries of <paramref name="directory"/> (creations, renames, deletions) durable.</summary>
    public static void FsyncDirectory(string directory) => WithDescriptor(directory, ReadOnly | Directory,
        fd => fsync(fd));

    /// <summary>Flushes every dirty page of the file system that holds <paramref name="path"/>.</summary>
    public static void SyncFileSystem(string path) => WithDescriptor(path, ReadOnly, fd => syncfs(fd));

    /// <summary>
    /// Runs <paramref name="use"/> on a descriptor of <paramref name="path"/>; nothing when it cannot be opened or this
    /// is not Linux. Opened non-blocking (a FIFO cannot hang the open) and close-on-exec (a pg_dump started meanwhile
    /// must not inherit it).
    /// </summary>
    private static void WithDescriptor(string path, int flags, Action<int> use)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(path, flags | NonBlocking | CloseOnExec);
        if (fd < 0) return;
        try { use(fd); } finally { close(fd); }
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

    /// <summary>A second descriptor of the same open file (close-on-exec), sharing its O_DIRECT setting; null where
    /// that is not possible (not Linux).</summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle? TryDuplicate(
        Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return null;
        const int duplicateCloseOnExec = 1030; // F_DUPFD_CLOEXEC
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = fcntl((int)handle.DangerousGetHandle(), duplicateCloseOnExec, 0);
            if (fd < 0) throw new IOException(
                $"Could not open a second descriptor of a file (errno {Marshal.GetLastPInvokeError()}).");
            return new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Turns on O_DIRECT for an open file, so reads and writes go between the caller's aligned buffers and the disk
    /// without passing through the page cache. False where the file system or the platform refuses it (tmpfs, not
    /// Linux).
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

    /// <summary>
    /// Asks the kernel to start reading <paramref name="path"/> into the page cache now (POSIX_FADV_WILLNEED) and
    /// returns at once, so the read that comes later finds the file there. Best effort: a failure only costs speed.
    /// </summary>
    // 3 = POSIX_FADV_WILLNEED
    public static void TryPrefetch(string path) => WithDescriptor(path, ReadOnly, fd => posix_fadvise(fd, 0, 0, 3));

    /// <summary>
    /// True when <paramref name="path"/> (not followed if a link) is a pipe, socket or device rather than a regular
    /// file — opening a FIFO blocks until something writes to it. False where that cannot be told (not Linux).
    /// </summary>
    public static bool IsSpecialFile(string path) => Stat(path) is { } status && !status.IsRegularFile
        && !status.IsDirectory && !status.IsSymbolicLink;

    /// <summary>Type, permission bits and owner of <paramref name="path"/> (not followed if a link); null where that
    /// cannot be told (gone, not Linux).</summary>
    public static unsafe FileStatus? Stat(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // statx's layout is the same on every architecture, unlike stat's.
        const int atCurrentDirectory = -100, atSymlinkNoFollow = 0x100, typeModeUidGid = 0x1 | 0x2 | 0x8 | 0x10;
        const int uidOffset = 20, gidOffset = 24, modeOffset = 28;
        var buffer = stackalloc byte[256];
        try
        {
            // gone: the reader reports it
            if (statx(atCurrentDirectory, path, atSymlinkNoFollow, typeModeUidGid, buffer) != 0) return null;
        }
        catch (EntryPointNotFoundException) { return null; } // a C library older than statx (glibc < 2.28)
        return new FileStatus(*(ushort*)(buffer + modeOffset), *(uint*)(buffer + uidOffset),
            *(uint*)(buffer + gidOffset));
    }

    /// <summary>Sets the owner of <paramref name="path"/> (not followed if a link); throws IOException on
    /// failure.</summary>
    public static void SetOwner(string path, uint uid, uint gid)
    {
        if (lchown(path, uid, gid) != 0)
            throw new IOException(
                $"Could not set the owner of {path} to {uid}:{gid} (errno {Marshal.GetLastPInvokeError()}).");
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lchown(string path, uint uid, uint gid);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int directoryFd, string path, int flags, int mask, byte* buffer);

    [LibraryImport("libc")]
    private static partial int posix_fadvise(int fd, long offset, long length, int advice);

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
