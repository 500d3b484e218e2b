using System.Runtime.InteropServices;

namespace BackupManager.Core.IO;

/// <summary>
/// The backup folder holds every patient record and the accounts' password hashes: nothing in it may be readable by
/// another local user, whatever umask the service was started with. <see cref="RestrictProcessUmask"/> makes every
/// file this process (and its pg_dump/pg_restore children) creates 0600 and every folder 0700;
/// <see cref="Tighten"/> fixes what an older version or a copy by hand left readable.
/// </summary>
public static partial class PrivateFiles
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode FolderMode = FileMode | UnixFileMode.UserExecute;

    /// <summary>
    /// Options for a new file that only this user may read (0600) whatever the umask and whichever host runs the
    /// engine:
    /// every file the engine creates in or for the backup folder, and restored files until they get their recorded
    /// mode.
    /// </summary>
    public static FileStreamOptions Create(FileMode mode, FileAccess access, FileShare share = FileShare.None,
        int bufferSize = 4096,
        FileOptions options = FileOptions.None)
    {
        var result = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize,
            Options = options };
        if (!OperatingSystem.IsWindows()) result.UnixCreateMode = FileMode;
        return result;
    }

    /// <summary>Makes a file opened by handle 0600 (for handles <see cref="File.OpenHandle"/> created).</summary>
    public static void Restrict(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(handle, FileMode);
    }

    /// <summary>Creates a folder only this user may enter (0700); an existing one is left as it is.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(path);
        else System.IO.Directory.CreateDirectory(path, FolderMode);
    }

    /// <summary>Sets the process umask to 077. Call once, first thing at start (a umask is process-wide).</summary>
    public static void RestrictProcessUmask()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) umask(0x3F); // 077 octal
    }

    /// <summary>
    /// Makes <paramref name="directory"/> 0700 and every file and folder below it 0600 / 0700 where group or others had
    /// any access; returns how many it changed.
    /// </summary>
    public static int Tighten(string directory)
    {
        if (OperatingSystem.IsWindows() || !System.IO.Directory.Exists(directory)) return 0;
        var changed = TightenOne(directory, FolderMode) ? 1 : 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0,
            IgnoreInaccessible = true };
        foreach (var path in System.IO.Directory.EnumerateFileSystemEntries(directory, "*", options))
        {
            try
            {
                // never follow or chmod a link's target
                if (File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint)) continue;
                if (TightenOne(path, System.IO.Directory.Exists(path) ? FolderMode : FileMode)) changed++;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Another process's temporary file, gone meanwhile (this runs before the operation lock is taken).
            }
        }
        return changed;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool TightenOne(string path, UnixFileMode mode)
    {
        var current = File.GetUnixFileMode(path);
        const UnixFileMode groupAndOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((current & groupAndOthers) == 0) return false;
        File.SetUnixFileMode(path, (current & ~groupAndOthers) | (mode & UnixFileMode.UserRead));
        return true;
    }

    [LibraryImport("libc")]
    private static partial uint umask(uint mask);
}
