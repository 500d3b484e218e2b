namespace BackupManager.Core.Files;

/// <summary>
/// A regular file or a folder (<see cref="IsDirectory"/>; the root itself has an empty <see cref="RelativePath"/>)
/// found
/// under a root, with the size, time, st_mode (type and permission bits) and, when the scan runs as root, the owner
/// seen
/// when the tree was scanned.
/// </summary>
public sealed record ScannedFile(FileRoot Root, string RelativePath, long Size, DateTime LastWriteUtc,
    uint Mode = 0x81A4, uint? Uid = null, uint? Gid = null)
{
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;

    // Derived, not stored: the scan list of a large clinic holds hundreds of thousands of these.
    public string FullPath => Path.Combine(Root.FullPath, RelativePath);
}
