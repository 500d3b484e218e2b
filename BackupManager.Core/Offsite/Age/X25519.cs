using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace BackupManager.Core.Offsite.Age;

/// <summary>
/// X25519 from libsodium (the library NSec loads) on caller-owned spans, for every age file written and read. NSec's
/// <c>Key</c> and <c>SharedSecret</c> each take guarded, locked pages (sodium_malloc: mmap, mprotect, mlock), which
/// cost more than the curve arithmetic when every off-site piece is its own age file. The ephemeral secret lives on the
/// stack for one call and is zeroed; an identity stays in its NSec key and is copied out to the stack for each
/// file it opens, then zeroed.
/// </summary>
internal static unsafe partial class X25519
{
    private const string Sodium = "libsodium";

    static X25519()
    {
        // Picks libsodium's fastest implementations; safe to call again after NSec did.
        if (sodium_init() < 0) throw new CryptographicException("libsodium could not be initialised");
    }

    /// <summary>
    /// Makes a fresh ephemeral key: writes its public <paramref name="share"/> and the secret it shares with the
    /// recipient <paramref name="theirs"/> into <paramref name="shared"/> (32 bytes each). False when
    /// <paramref name="theirs"/> is a low-order point (libsodium refuses an all-zero shared secret).
    /// </summary>
    public static bool Ephemeral(ReadOnlySpan<byte> theirs, Span<byte> share, Span<byte> shared)
    {
        if (theirs.Length != 32 || share.Length != 32 || shared.Length != 32)
            throw new ArgumentException("X25519 keys and shares are 32 bytes");
        Span<byte> secret = stackalloc byte[32];
        try
        {
            RandomNumberGenerator.Fill(secret);
            fixed (byte* n = secret, q = share, p = theirs, s = shared)
                return crypto_scalarmult_base(q, n) == 0 && crypto_scalarmult(s, n, p) == 0;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Writes the secret that <paramref name="secret"/> shares with <paramref name="theirs"/> into
    /// <paramref name="shared"/>; false when <paramref name="theirs"/> is a low-order point.</summary>
    public static bool Agree(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> theirs, Span<byte> shared)
    {
        if (secret.Length != 32 || theirs.Length != 32 || shared.Length != 32)
            throw new ArgumentException("X25519 keys and shares are 32 bytes");
        fixed (byte* n = secret, p = theirs, s = shared) return crypto_scalarmult(s, n, p) == 0;
    }

    [LibraryImport(Sodium)]
    private static partial int sodium_init();

    [LibraryImport(Sodium)]
    private static partial int crypto_scalarmult_base(byte* q, byte* n);

    [LibraryImport(Sodium)]
    private static partial int crypto_scalarmult(byte* q, byte* n, byte* p);
}
