namespace BackupManager.Core.Archive;

/// <summary>Unix attributes of an entry: <see cref="Mode"/> is st_mode (type and permission bits); the owner only where
/// recorded.</summary>
internal sealed record ZipEntryAttributes(uint Mode, uint? Uid = null, uint? Gid = null)
{
    /// <summary>S_IFREG | 0644: an ordinary readable file, for entries that are not a backed-up file (dump,
    /// manifest).</summary>
    public static readonly ZipEntryAttributes RegularFile = new(0x81A4);
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
}
