using BackupManager.Core.Offsite.Age;

namespace BackupManager.Core.Offsite;

/// <summary>OpenSSH's SHA256 host key fingerprints (<c>SHA256:</c> + unpadded base64 of the key blob's
/// SHA-256).</summary>
public static class SftpFingerprint
{
    public static bool IsWellFormed(string? text) =>
        text is { Length: 50 } && text.StartsWith("SHA256:",
            StringComparison.Ordinal) && AgeFormat.FromBase64(text[7..]) is { Length: 32 };

    public static string Of(byte[] hostKeyBlob) =>
        "SHA256:" + AgeFormat.Base64(System.Security.Cryptography.SHA256.HashData(hostKeyBlob));
}
