using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.IO;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Where point-in-time recovery keeps its data: <c>pitr/wal</c> (segments from pg_receivewal), <c>pitr/base/&lt;UTC
/// time&gt;</c> (verified base backups) and <c>pitr/.tmp-*</c> (work in progress), all private to this user.
/// </summary>
public sealed class PitrLayout
{
    /// <summary>The JSON record written into every base backup folder.</summary>
    public const string RecordFileName = "backupmanager-base.json";
    public const string TempPrefix = ".tmp-";
    /// <summary>The work folder of a restore from a destination: decrypted base backup and WAL.</summary>
    public const string OffsiteRestorePurpose = "offsite-restore";

    public PitrLayout(string backupDirectory)
    {
        var full = Path.GetFullPath(backupDirectory);
        Root = Path.Combine(full, "pitr");
        Wal = Path.Combine(Root, "wal");
        Base = Path.Combine(Root, "base");
        // One slot per installation (backup folder), so two installations on one server never share WAL.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..12];
        SlotName = "backupmanager_" + hash;
    }

    public string Root { get; }
    public string Wal { get; }
    public string Base { get; }
    /// <summary>The physical replication slot of this installation.</summary>
    public string SlotName { get; }

    /// <summary>Creates the private folders (0700) if they are missing.</summary>
    public void EnsureFolders()
    {
        PrivateFiles.CreateFolder(Root);
        PrivateFiles.CreateFolder(Wal);
        PrivateFiles.CreateFolder(Base);
    }

    /// <summary>A new, private work folder inside <see cref="Root"/> (same file system as the final place).</summary>
    public string NewTemp(string purpose)
    {
        EnsureFolders();
        var path = Path.Combine(Root, $"{TempPrefix}{purpose}-{Guid.NewGuid().ToString("N")[..8]}");
        PrivateFiles.CreateFolder(path);
        return path;
    }
}
