using BackupManager.Core.IO;

namespace BackupManager.Core.Restore;

/// <summary>
/// Gives a restored file or folder what the backup recorded besides its content: owner and group (only when running as
/// root, the only user who can), permission bits and the exact modification time. Setuid and setgid bits are never
/// restored from an archive: patient files never need them, and a crafted archive must not plant them. A foreign
/// archive (not made by this installation) chooses no owner — it could hand the clinic's files to any local user —
/// and
/// gives other users no access.
/// </summary>
internal static class RestoredMetadata
{
    private const uint SetUserAndGroupId = 0xC00, OthersBits = 0x7;
    private static readonly bool CanSetOwners = Environment.IsPrivilegedProcess;

    public static void Apply(string path, ManifestEntry entry, bool foreign)
    {
        // before the mode: chown may clear bits
        if (CanSetOwners && !foreign && entry is { Uid: { } uid, Gid: { } gid }) NativeFileSystem.SetOwner(path, uid,
            gid);
        if (!OperatingSystem.IsWindows() && entry.PermissionBits() is { } bits)
            File.SetUnixFileMode(path, (UnixFileMode)(bits & ~SetUserAndGroupId & ~(foreign ? OthersBits : 0)));
        if (entry.ModifiedAt is not { } modified) return;
        if (entry.IsDirectory) Directory.SetLastWriteTimeUtc(path, modified.UtcDateTime);
        else File.SetLastWriteTimeUtc(path, modified.UtcDateTime);
    }
}
