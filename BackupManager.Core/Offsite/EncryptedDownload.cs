using BackupManager.Core.Offsite.Age;

namespace BackupManager.Core.Offsite;

/// <summary>A local backup encrypted to the configured recipients on the fly, for a laptop or a USB stick.</summary>
internal sealed class EncryptedDownload(OffsiteContext context)
{
    /// <summary>
    /// A backup encrypted to the recipients, for a laptop or a USB stick: a stream of the age file, computed as it is
    /// read (no temporary copy), and its exact length.
    /// </summary>
    public (Stream Content, long Length) Open(string filename)
    {
        if (context.Recipients.Count == 0)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No age recipients are configured, so there is nothing to encrypt to. Set "
                + "Backup__Encryption__Recipients__0 to the clinic's age1… key.");
        var path = context.Store.ResolveExisting(filename);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20,
            FileOptions.SequentialScan);
        var encrypted = AgeFormat.Encrypt(file, file.Length, context.Recipients);
        return (encrypted, encrypted.Length);
    }
}
