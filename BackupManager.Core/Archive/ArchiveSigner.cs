using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Each installation signs the archives it makes: an HMAC-SHA256, with a key of its own, over the manifest's SHA-256
/// and the central directory's (which together cover every byte of the archive), kept in the archive's summary. An
/// archive without this installation's signature — uploaded, or copied into the folder by hand — is
/// <em>foreign</em>:
/// listed as such and restored only with an explicit extra confirmation. The key is 32 random bytes in
/// <c>.signing-key</c> in the backup folder (0600), made at first start; a different backup folder is a different
/// installation with a different key. Escrow it with the clinic's other secrets: an installation rebuilt with the same
/// key recognises its old archives as its own.
/// </summary>
public sealed class ArchiveSigner
{
    public const string KeyFileName = ".signing-key";
    /// <summary>Signatures of archives made here before signing existed, kept beside them: a committed archive is never
    /// rewritten.</summary>
    public const string AdoptedFileName = ".adopted-archives.json";
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("backupmanager archive signature v1\n");
    private readonly byte[] _key;
    private readonly string _adoptedPath;
    private readonly Lock _adoptedLock = new();
    private (DateTime Written, Dictionary<string, string> Signatures) _adopted = (DateTime.MinValue,
        new(StringComparer.Ordinal));

    private ArchiveSigner(byte[] key, bool isNew, string backupDirectory) =>
        (_key, IsNew, _adoptedPath) = (key, isNew, Path.Combine(backupDirectory, AdoptedFileName));

    /// <summary>True when this process made the key (a new installation, or one upgraded to signing).</summary>
    public bool IsNew { get; }

    /// <summary>Loads the key from <paramref name="backupDirectory"/>, or makes it there if there is none
    /// yet.</summary>
    public static ArchiveSigner LoadOrCreate(string backupDirectory)
    {
        var path = Path.Combine(backupDirectory, KeyFileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(backupDirectory);
            var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            AtomicFile.WriteAllBytes(temp,
                Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp,
                UnixFileMode.UserRead | UnixFileMode.UserWrite);
            try
            {
                File.Move(temp, path, overwrite: false); // two processes starting at once: the first key wins
                return new ArchiveSigner(ReadKey(path), isNew: true, backupDirectory);
            }
            catch (IOException) when (File.Exists(path)) { File.Delete(temp); }
        }
        return new ArchiveSigner(ReadKey(path), isNew: false, backupDirectory);
    }

    private static byte[] ReadKey(string path)
    {
        var text = File.ReadAllText(path).Trim();
        try
        {
            var key = Convert.FromHexString(text);
            if (key.Length >= 32) return key;
        }
        catch (FormatException) { }
        throw new BackupException(BackupErrorKind.Environment,
            $"The archive signing key {path} is damaged (it must be 64 hexadecimal characters). Put back the escrowed "
                + $"copy, or delete it to make a new key (then every existing backup counts as foreign).");
    }

    /// <summary>The signature of a sealed summary (its manifest and directory hashes set).</summary>
    public string Sign(ArchiveSummary summary)
    {
        var data = Purpose.Concat(Encoding.ASCII.GetBytes(summary.ManifestSha256 + "\n" + summary.DirectorySha256))
            .ToArray();
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, data));
    }

    /// <summary>Why a foreign archive is not restored without the explicit confirmation, and how to give it.</summary>
    public static BackupException RefusedAsForeign(string filename) => new(BackupErrorKind.Refused,
        $"{filename} was not made by this installation (it carries no signature of this installation's key: uploaded, "
            + $"or copied in by hand), so it was not restored. "
        + "Restoring it replaces the clinic's data with whatever it holds and runs its SQL. If you know where it "
            + "comes from and trust it, confirm it explicitly: "
        + "the second checkbox on the page, allow_foreign in the API, or --allow-foreign on the command line.");

    /// <summary>
    /// True when the archive <paramref name="filename"/> with <paramref name="summary"/> carries this installation's
    /// signature, in its summary or (made before signing existed) in the adopted list.
    /// </summary>
    public bool IsOwn(ArchiveSummary? summary, string filename)
    {
        if (summary is null) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(summary));
        if (summary.Signature is { Length: 64 } signature
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), expected)) return true;
        return Adopted().TryGetValue(filename,
            out var adopted) && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(adopted), expected);
    }

    /// <summary>Records <paramref name="archives"/> as this installation's own (written to a temp file, fsynced and
    /// renamed).</summary>
    public void Adopt(IEnumerable<(string Filename, ArchiveSummary Summary)> archives)
    {
        lock (_adoptedLock)
        {
            var signatures = new Dictionary<string, string>(Adopted(), StringComparer.Ordinal);
            foreach (var (filename, summary) in archives) signatures[filename] = Sign(summary);
            AtomicFile.WriteAllBytes(_adoptedPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(signatures));
            _adopted = (DateTime.MinValue, signatures);
        }
    }

    /// <summary>The adopted list, read again when another process has changed it.</summary>
    private Dictionary<string, string> Adopted()
    {
        lock (_adoptedLock)
        {
            var written = File.Exists(_adoptedPath) ? File.GetLastWriteTimeUtc(_adoptedPath) : DateTime.MinValue;
            if (written == _adopted.Written) return _adopted.Signatures;
            Dictionary<string, string> signatures;
            try { signatures = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string,
                string>>(File.ReadAllBytes(_adoptedPath)) ?? []; }
            // unreadable: those archives count as foreign
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { signatures = []; }
            _adopted = (written, new Dictionary<string, string>(signatures, StringComparer.Ordinal));
            return _adopted.Signatures;
        }
    }
}
