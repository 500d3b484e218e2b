namespace BackupManager.Core.IO;

/// <summary>What statx says of a path: <see cref="Mode"/> is st_mode (type and permission bits).</summary>
internal readonly record struct FileStatus(uint Mode, uint Uid, uint Gid)
{
    private const uint TypeMask = 0xF000;
    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;
    public bool IsSymbolicLink => (Mode & TypeMask) == 0xA000;
    /// <summary>The permission bits, with setuid and setgid.</summary>
    public uint Permissions => Mode & 0xFFF;
}
