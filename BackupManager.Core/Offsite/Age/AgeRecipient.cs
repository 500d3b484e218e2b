namespace BackupManager.Core.Offsite.Age;

/// <summary>An X25519 recipient, <c>age1…</c>: a public key anyone may hold.</summary>
public sealed class AgeRecipient
{
    private AgeRecipient(byte[] publicKey, string text) => (PublicKey, Text) = (publicKey, text);

    internal byte[] PublicKey { get; }
    /// <summary>The <c>age1…</c> form.</summary>
    public string Text { get; }

    public static bool TryParse(string? text, out AgeRecipient? recipient)
    {
        recipient = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var decoded = Bech32.Decode(text.Trim());
        if (decoded is not { Hrp: "age" } || decoded.Value.Data.Length != 32
            || text.Trim() != text.Trim().ToLowerInvariant()) return false;
        recipient = new AgeRecipient(decoded.Value.Data, text.Trim());
        return true;
    }

    public static AgeRecipient Parse(string text) => TryParse(text, out var recipient)
        ? recipient!
        : throw new FormatException(
            $"'{text}' is not an age X25519 recipient (it must look like age1 followed by 58 letters and digits, as "
            + $"age-keygen -y prints it).");

    internal static AgeRecipient FromPublicKey(byte[] publicKey) => new(publicKey, Bech32.Encode("age", publicKey));

    public override string ToString() => Text;
}
