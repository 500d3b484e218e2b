using System.Runtime.InteropServices;

namespace BackupManager.Core.Archive;

/// <summary>
/// The system zlib's documented inflate API (zlib.h), loaded by its soname <c>libz.so.1</c> (Debian's zlib1g), so
/// neither the -dev symlink nor any private export of the .NET runtime is needed. A missing or unusable library is a
/// <see cref="BackupErrorKind.Environment"/> problem that says which package to install.
/// </summary>
internal static unsafe partial class SystemZlib
{
    public const int NoFlush = 0, Ok = 0, StreamEnd = 1, BufferError = -5, VersionError = -6;
    private const string Library = "libz.so.1";

    // The zlib.h this binding mirrors; inflateInit2_ refuses a library whose major version differs from it.
    private static ReadOnlySpan<byte> HeaderVersion => "1.2.13"u8;

    private static string? s_version;

    /// <summary>The loaded library's own version (zlibVersion()); throws when libz.so.1 cannot be loaded.</summary>
    public static string Version => s_version ??= LoadVersion();

    /// <summary>Starts a raw inflater (windowBits -15) on <paramref name="stream"/>, which must stay at this address
    /// until <see cref="InflateEnd"/>: zlib keeps it in its state and refuses a moved stream.</summary>
    public static void StartRawInflate(ZStream* stream)
    {
        var version = Version;
        int result;
        fixed (byte* header = HeaderVersion) result = InflateInit2(stream, -15, header, sizeof(ZStream));
        if (result == VersionError) throw new BackupException(BackupErrorKind.Environment,
            $"The system zlib ({Library}, version {version}) is not the zlib 1.x that BackupManager was written "
            + "for, so backups cannot be verified. Install Debian's zlib1g package (apt-get install zlib1g).");
        if (result != Ok) throw new InvalidOperationException($"zlib could not start an inflater (error {result}).");
    }

    private static string LoadVersion()
    {
        try { return Marshal.PtrToStringUTF8(ZlibVersion()) ?? "unknown"; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new BackupException(BackupErrorKind.Environment,
                $"The system zlib ({Library}) could not be loaded, so backups cannot be verified ({e.Message}). "
                + "Install Debian's zlib1g package (apt-get install zlib1g) and run the command again.", e);
        }
    }

    /// <summary>z_stream of zlib.h; on 64-bit Linux 112 bytes (uInt is 32 bits, uLong 64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public IntPtr Message;
        public IntPtr State;
        public IntPtr Alloc, Free, Opaque; // null: zlib's own malloc and free
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    [LibraryImport(Library, EntryPoint = "zlibVersion")]
    private static partial IntPtr ZlibVersion();

    [LibraryImport(Library, EntryPoint = "inflateInit2_")]
    private static partial int InflateInit2(ZStream* stream, int windowBits, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "inflate")]
    public static partial int Inflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "inflateEnd")]
    public static partial int InflateEnd(ZStream* stream);
}
