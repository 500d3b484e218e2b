using System.Security.Cryptography;
using NSec.Cryptography;

namespace BackupManager.Core.Offsite.Age;

/// <summary>An X25519 identity, <c>AGE-SECRET-KEY-1…</c>: the secret half, held only by whoever may
/// decrypt.</summary>
public sealed class AgeIdentity : IDisposable
{
    internal Key Key { get; }
    public AgeRecipient Recipient { get; }

    private AgeIdentity(Key key)
    {
        Key = key;
        Recipient = AgeRecipient.FromPublicKey(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>A new random identity (for tests and the key generator).</summary>
    public static AgeIdentity Generate() => FromSecret(RandomNumberGenerator.GetBytes(32));

    private static AgeIdentity FromSecret(ReadOnlySpan<byte> secret) =>
        new(Key.Import(KeyAgreementAlgorithm.X25519, secret, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>The <c>AGE-SECRET-KEY-1…</c> text of this identity.</summary>
    public string ToSecretText() => Bech32.Encode("AGE-SECRET-KEY-", Key.Export(KeyBlobFormat.RawPrivateKey));

    public static AgeIdentity Parse(string text)
    {
        var decoded = Bech32.Decode(text.Trim());
        if (decoded is not { Hrp: "age-secret-key-" } || decoded.Value.Data.Length != 32
            || text.Trim() != text.Trim().ToUpperInvariant())
            throw new FormatException(
                "That is not an age identity: it must be a line AGE-SECRET-KEY-1… as age-keygen writes it (comment "
                + "lines starting with # are fine).");
        return FromSecret(decoded.Value.Data);
    }

    /// <summary>
    /// The identities of an identity file as <c>age-keygen</c> writes it: one <c>AGE-SECRET-KEY-1…</c> per line;
    /// blank lines and lines starting with # are skipped. Anything else is an error that says so (no secret is echoed).
    /// </summary>
    public static IReadOnlyList<AgeIdentity> ParseFile(string content)
    {
        var identities = new List<AgeIdentity>();
        var lineNumber = 0;
        foreach (var raw in content.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            try { identities.Add(Parse(line)); }
            catch (FormatException) { throw new FormatException(
                $"Line {lineNumber} of the identity is not an age identity (AGE-SECRET-KEY-1…). Paste the whole file "
                + $"age-keygen wrote, or just its AGE-SECRET-KEY-1 line."); }
        }
        if (identities.Count == 0) throw new FormatException(
            "The identity holds no AGE-SECRET-KEY-1… line. Paste the file age-keygen wrote for the clinic's "
            + "recipient.");
        return identities;
    }

    public void Dispose() => Key.Dispose();
}
