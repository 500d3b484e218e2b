namespace BackupManager.Core.Offsite;

/// <summary><c>Backup__Encryption__*</c>: who can read what is sent off-site.</summary>
public sealed class EncryptionOptions
{
    /// <summary>age X25519 recipients (<c>age1…</c>), e.g. the clinic's key and an offline escrow key. Only public
    /// keys
    /// live on the server.</summary>
    public List<string> Recipients { get; set; } = [];
}
