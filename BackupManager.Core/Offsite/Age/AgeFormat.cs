using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;
using ChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace BackupManager.Core.Offsite.Age;

/// <summary>
/// The age v1 file format (C2SP age.md) for X25519 recipients, on vetted primitives only: X25519 and HKDF-SHA256 from
/// libsodium (NSec), ChaCha20-Poly1305 and HMAC-SHA256 from .NET. Files it writes are read by the stock
/// <c>age -d -i key.txt</c>; it reads what <c>age -r age1…</c> writes, and passes the format's published test
/// vectors.
/// </summary>
public static class AgeFormat
{
    internal const int ChunkSize = 64 * 1024;
    internal const int TagSize = 16;
    internal const string VersionLine = "age-encryption.org/v1";
    private static readonly byte[] X25519Info = Encoding.ASCII.GetBytes("age-encryption.org/v1/X25519");
    private static readonly byte[] HeaderInfo = Encoding.ASCII.GetBytes("header");
    private static readonly byte[] PayloadInfo = Encoding.ASCII.GetBytes("payload");

    /// <summary>The length of the age file for a payload of <paramref name="plaintextLength"/> bytes under a header of
    /// <paramref name="headerLength"/> bytes.</summary>
    public static long EncryptedLength(long plaintextLength, int headerLength)
    {
        var chunks = Math.Max(1, (plaintextLength + ChunkSize - 1) / ChunkSize);
        return headerLength + 16 + plaintextLength + chunks * TagSize;
    }

    /// <summary>
    /// A readable stream of the age file of exactly <paramref name="plaintextLength"/> bytes of
    /// <paramref name="plaintext"/>, encrypted to every recipient; its Length is known before the first byte.
    /// </summary>
    public static Stream Encrypt(Stream plaintext, long plaintextLength, IReadOnlyList<AgeRecipient> recipients,
        bool leaveOpen = false) =>
        new AgeEncryptingStream(plaintext, plaintextLength, recipients, leaveOpen);

    /// <summary>A readable stream of the plaintext of the age file <paramref name="ciphertext"/>; throws <see
    /// cref="AgeException"/>.</summary>
    public static Stream Decrypt(Stream ciphertext, IReadOnlyList<AgeIdentity> identities, bool leaveOpen = false) =>
        new AgeDecryptingStream(ciphertext, identities, leaveOpen);

    internal static (byte[] Header, byte[] PayloadKey, byte[] Nonce) NewHeader(IReadOnlyList<AgeRecipient> recipients)
    {
        if (recipients.Count == 0) throw new ArgumentException("age needs at least one recipient", nameof(recipients));
        var fileKey = RandomNumberGenerator.GetBytes(16);
        var text = new StringBuilder(VersionLine).Append('\n');
        Span<byte> shared = stackalloc byte[32], wrapKey = stackalloc byte[32];
        foreach (var recipient in recipients)
        {
            var share = new byte[32];
            var body = new byte[32];
            try
            {
                if (!X25519.Ephemeral(recipient.PublicKey, share, shared))
                    throw new CryptographicException("the recipient's key is not a usable X25519 key");
                HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, wrapKey, [.. share, .. recipient.PublicKey],
                    X25519Info);
                using var aead = new ChaCha20Poly1305(wrapKey);
                aead.Encrypt(new byte[12], fileKey, body.AsSpan(0, 16), body.AsSpan(16));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(shared);
                CryptographicOperations.ZeroMemory(wrapKey);
            }
            text.Append("-> X25519 ").Append(Base64(share)).Append('\n');
            AppendBody(text, body);
        }
        text.Append("---");
        var macInput = Encoding.ASCII.GetBytes(text.ToString());
        var mac = HMACSHA256.HashData(Hkdf(fileKey, [], HeaderInfo), macInput);
        var header = Encoding.ASCII.GetBytes(text.Append(' ').Append(Base64(mac)).Append('\n').ToString());
        var nonce = RandomNumberGenerator.GetBytes(16);
        return (header, Hkdf(fileKey, nonce, PayloadInfo), nonce);
    }

    private static void AppendBody(StringBuilder text, byte[] body)
    {
        var encoded = Base64(body);
        for (var i = 0; i < encoded.Length; i += 64) text.Append(encoded.AsSpan(i,
            Math.Min(64, encoded.Length - i))).Append('\n');
        if (encoded.Length % 64 == 0) text.Append('\n'); // a stanza body always ends with a short line
    }

    internal static byte[] Hkdf(byte[] ikm, byte[] salt, byte[] info) => HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm,
        32, salt, info);

    internal static string Base64(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=');

    /// <summary>Strict unpadded base64: only canonical encodings (no padding, no stray low bits) decode.</summary>
    internal static byte[]? FromBase64(string text)
    {
        if (text.Length % 4 == 1 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))) return null;
        byte[] data;
        try { data = Convert.FromBase64String(text + new string('=', (4 - text.Length % 4) % 4)); }
        catch (FormatException) { return null; }
        return Base64(data) == text ? data : null;
    }

    /// <summary>The 12-byte STREAM nonce: an 11-byte big-endian chunk counter and the last-chunk flag.</summary>
    internal static void ChunkNonce(Span<byte> nonce, long counter, bool last)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[3..11], counter);
        nonce[11] = last ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// Reads and checks the header from <paramref name="read"/> (one byte at a time from a buffered source), unwraps
    /// the
    /// file key with one of <paramref name="identities"/>, checks the header MAC, and returns the payload key.
    /// </summary>
    internal static byte[] ReadHeader(Func<int> read, IReadOnlyList<AgeIdentity> identities)
    {
        var consumed = new List<byte>(512);
        string Line()
        {
            var start = consumed.Count;
            while (true)
            {
                var b = read();
                if (b < 0) throw new AgeException(AgeFailure.Header, "the age header ends early");
                if (consumed.Count > 1 << 20) throw new AgeException(AgeFailure.Header, "the age header is too long");
                if (b == '\n') { consumed.Add((byte)b); break; }
                if (b < 0x20 || b > 0x7e) throw new AgeException(AgeFailure.Header,
                    "the age header has a character that is not printable ASCII");
                consumed.Add((byte)b);
            }
            return Encoding.ASCII.GetString(consumed.GetRange(start, consumed.Count - start - 1).ToArray());
        }

        if (Line() != VersionLine) throw new AgeException(AgeFailure.Header,
            "not an age v1 file (the first line must be age-encryption.org/v1)");
        var stanzas = new List<(string[] Args, byte[] Body)>();
        string line;
        while ((line = Line()).StartsWith("-> ", StringComparison.Ordinal))
        {
            var args = line[3..].Split(' ');
            if (args.Any(a => a.Length == 0)) throw new AgeException(AgeFailure.Header,
                "an age stanza has an empty argument");
            var body = new StringBuilder();
            while (true)
            {
                var bodyLine = Line();
                if (bodyLine.Length > 64) throw new AgeException(AgeFailure.Header,
                    "an age stanza body line is longer than 64 columns");
                body.Append(bodyLine);
                if (bodyLine.Length < 64) break;
            }
            var decoded = FromBase64(body.ToString()) ?? throw new AgeException(AgeFailure.Header,
                "an age stanza body is not canonical base64");
            stanzas.Add((args, decoded));
        }
        if (!line.StartsWith("--- ", StringComparison.Ordinal)) throw new AgeException(AgeFailure.Header,
            "the age header does not end with its MAC line");
        var mac = line.Length == 4 + 43 ? FromBase64(line[4..]) : null;
        if (mac is null) throw new AgeException(AgeFailure.Header,
            "the age header MAC is not 32 bytes of canonical base64");
        if (stanzas.Count == 0) throw new AgeException(AgeFailure.Header, "the age header has no recipient stanza");
        var macInput = consumed.GetRange(0, consumed.Count - line.Length - 1 + 3).ToArray();

        byte[]? fileKey = null;
        foreach (var (args, body) in stanzas)
        {
            if (args[0] != "X25519") continue;
            if (args.Length != 2) throw new AgeException(AgeFailure.Header,
                "an X25519 stanza must have exactly one argument");
            var share = FromBase64(args[1]);
            if (share is not { Length: 32 }) throw new AgeException(AgeFailure.Header,
                "an X25519 share is not 32 bytes of canonical base64");
            if (body.Length != 32) throw new AgeException(AgeFailure.Header, "an X25519 stanza body is not 32 bytes");
            if (fileKey is not null) continue;
            foreach (var identity in identities)
            {
                fileKey = Unwrap(identity, share, body);
                if (fileKey is not null) break;
            }
        }
        if (fileKey is null) throw new AgeException(AgeFailure.NoMatch,
            "none of the given identities can open this age file: it was encrypted to other recipients");
        var expected = HMACSHA256.HashData(Hkdf(fileKey, [], HeaderInfo), macInput);
        if (!CryptographicOperations.FixedTimeEquals(expected, mac)) throw new AgeException(AgeFailure.HeaderMac,
            "the age header MAC does not match: the header was altered");

        var nonce = new byte[16];
        for (var i = 0; i < 16; i++)
        {
            var b = read();
            if (b < 0) throw new AgeException(AgeFailure.Header, "the age file ends before its payload nonce");
            nonce[i] = (byte)b;
        }
        return Hkdf(fileKey, nonce, PayloadInfo);
    }

    private static byte[]? Unwrap(AgeIdentity identity, byte[] share, byte[] body)
    {
        try { PublicKey.Import(KeyAgreementAlgorithm.X25519, share, KeyBlobFormat.RawPublicKey); }
        catch (FormatException) { throw new AgeException(AgeFailure.Header,
            "an X25519 share is not a valid public key"); }
        Span<byte> secret = stackalloc byte[32], shared = stackalloc byte[32], wrapKey = stackalloc byte[32];
        try
        {
            if (!identity.Key.TryExport(KeyBlobFormat.RawPrivateKey, secret, out var length) || length != 32)
                throw new CryptographicException("the identity's secret key cannot be read");
            // libsodium refuses an all-zero shared secret (a low-order share): the spec makes it a header failure.
            if (!X25519.Agree(secret, share, shared))
                throw new AgeException(AgeFailure.Header, "an X25519 share is a low-order point");
            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, wrapKey, [.. share, .. identity.Recipient.PublicKey],
                X25519Info);
            var fileKey = new byte[16];
            try
            {
                using var aead = new ChaCha20Poly1305(wrapKey);
                aead.Decrypt(new byte[12], body.AsSpan(0, 16), body.AsSpan(16), fileKey);
                return fileKey;
            }
            catch (AuthenticationTagMismatchException) { return null; }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }
}
