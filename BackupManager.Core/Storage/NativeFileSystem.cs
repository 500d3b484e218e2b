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
