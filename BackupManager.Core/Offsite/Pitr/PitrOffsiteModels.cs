using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Pitr;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>One destination's point-in-time copy round: what was sent and removed, or the error.</summary>
public sealed record PitrCopyReport(string Destination, IReadOnlyList<string> Sent, IReadOnlyList<string> Removed,
    string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>What a destination holds for point-in-time recovery: its base backups (oldest first; Folder is the
/// name) and WAL objects, the window they cover, and whether they are age files.</summary>
public sealed record PitrOffsiteWindow(IReadOnlyList<BaseBackupRecord> Bases, IReadOnlyList<RemoteObject> Wal,
    DateTimeOffset? From, DateTimeOffset? To, bool Encrypted)
{
    public string Describe() => From is { } from && To is { } to
        ? $"from {from.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z to {to.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z"
        : "empty (no base backup there)";
}

/// <summary>A point-in-time restore from a destination: the archive made and the restore's result;
/// <see cref="FilesNote"/> says where the files came from or why only the database was restored.</summary>
public sealed record OffsitePointInTimeResult(PointInTimeArchive Archive, RestoreResult Result, string? FilesNote);
