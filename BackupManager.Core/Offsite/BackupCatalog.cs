namespace BackupManager.Core.Offsite;

/// <summary>The plaintext record of one backup at a destination (no file names, no content hashes).</summary>
public sealed record BackupCatalog
{
    public int Format { get; init; } = OffsiteFormat.Version;
    public required string Filename { get; init; }
    public long Size { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public BackupTrigger Trigger { get; init; }
    public IReadOnlyList<string> Contains { get; init; } = [];
    public string? RequestedBy { get; init; }
    public bool Foreign { get; init; }
    public int WarningCount { get; init; }
    public DateTimeOffset CopiedAt { get; init; }
    /// <summary>True when the index and objects are age files; false for a destination allowed to be
    /// unencrypted.</summary>
    public bool Encrypted { get; init; }
    public IReadOnlyList<string> Recipients { get; init; } = [];
    public string NamingKeyId { get; init; } = "";
    public required StoredObject Index { get; init; }
    public IReadOnlyList<StoredObject> Objects { get; init; } = [];

    public BackupInfo ToBackupInfo() => new(Filename, Size, CreatedAt, Trigger, Contains, RequestedBy, Pinned: false,
        Readable: true, WarningCount) { Foreign = Foreign };
}
