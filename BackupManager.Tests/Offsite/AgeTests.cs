using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.Offsite.Age;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// The in-process age implementation against the format's published test vectors (C2SP CCTV, the X25519 and STREAM
/// ones: armor, scrypt and post-quantum vectors do not apply) and against the stock Debian <c>age</c> CLI both ways.
/// </summary>
public sealed class AgeTests
{
    private static readonly string VectorFolder = Path.Combine(AppContext.BaseDirectory, "TestData", "age-vectors");

    public static TheoryData<string> Vectors()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(VectorFolder).Where(f => !f.EndsWith(".md")).Order()) data.Add(
            Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Published_test_vector_gives_the_expected_outcome(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(VectorFolder, name));
        var split = bytes.AsSpan().IndexOf("\n\n"u8);
        var headers = Encoding.ASCII.GetString(bytes, 0, split).Split('\n').Select(l => l.Split(": ", 2)).ToList();
        var expect = headers.Single(h => h[0] == "expect")[1];
        var payloadHash = headers.SingleOrDefault(h => h[0] == "payload")?[1];
        var identities = headers.Where(h => h[0] == "identity").Select(h => AgeIdentity.Parse(h[1])).ToList();
        Stream file = new MemoryStream(bytes, split + 2, bytes.Length - split - 2);
        if (headers.Any(h => h[0] == "compressed" && h[1] == "zlib")) file = new System.IO.Compression.ZLibStream(file,
            System.IO.Compression.CompressionMode.Decompress);

        var released = new MemoryStream();
        AgeFailure? failure = null;
        try
        {
            using var plaintext = AgeFormat.Decrypt(file, identities);
            var buffer = new byte[10_000];
            int n;
            while ((n = plaintext.Read(buffer)) > 0) released.Write(buffer, 0, n);
        }
        catch (AgeException e) { failure = e.Failure; }

        var expected = expect switch
        {
            "success" => (AgeFailure?)null,
            "no match" => AgeFailure.NoMatch,
            "HMAC failure" => AgeFailure.HeaderMac,
            "header failure" => AgeFailure.Header,
            "payload failure" => AgeFailure.Payload,
            _ => throw new InvalidOperationException(expect),
        };
        Assert.Equal(expected, failure);
        // Whatever was released before a payload failure must be exactly the authenticated prefix.
        if (payloadHash is not null && failure is null or AgeFailure.Payload)
            Assert.Equal(payloadHash, Convert.ToHexStringLower(SHA256.HashData(released.ToArray())));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_536)]
    [InlineData(65_537)]
    [InlineData(3 * 65_536)]
    [InlineData(1_000_003)]
    public void What_we_encrypt_the_stock_age_decrypts(int size)
    {
        using var folder = new TestFolder();
        var (identityFile, recipient) = StockAge.KeyPair(folder.Path);
        var escrow = AgeIdentity.Generate();
        var plaintext = TestFolder.RandomBytes(size);
        var encryptedPath = Path.Combine(folder.Path, "file.age");
        using (var encrypted = AgeFormat.Encrypt(new MemoryStream(plaintext), size,
            [AgeRecipient.Parse(recipient), escrow.Recipient]))
        {
            var expectedLength = encrypted.Length;
            using (var output = File.Create(encryptedPath)) encrypted.CopyTo(output);
            Assert.Equal(expectedLength, new FileInfo(encryptedPath).Length);
        }
        var decrypted = Path.Combine(folder.Path, "out");
        var (exit, output2) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", decrypted, encryptedPath);
        Assert.True(exit == 0, output2);
        // age writes no file for an empty payload
        Assert.Equal(plaintext, File.Exists(decrypted) ? File.ReadAllBytes(decrypted) : []);
        // The escrow key opens the same file.
        using var ours = AgeFormat.Decrypt(File.OpenRead(encryptedPath), [escrow]);
        var copy = new MemoryStream();
        ours.CopyTo(copy);
        Assert.Equal(plaintext, copy.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65_536)]
    [InlineData(200_001)]
    public void What_the_stock_age_encrypts_we_decrypt(int size)
    {
        using var folder = new TestFolder();
        var (identityFile, recipient) = StockAge.KeyPair(folder.Path);
        var plain = Path.Combine(folder.Path, "plain");
        File.WriteAllBytes(plain, TestFolder.RandomBytes(size));
        var (exit, output) = StockReaders.Run("age", "-r", recipient, "-o", plain + ".age", plain);
        Assert.True(exit == 0, output);
        var identities = AgeIdentity.ParseFile(File.ReadAllText(identityFile));
        Assert.Equal(recipient, identities[0].Recipient.Text);
        using var decrypted = AgeFormat.Decrypt(File.OpenRead(plain + ".age"), identities);
        var copy = new MemoryStream();
        decrypted.CopyTo(copy);
        Assert.Equal(File.ReadAllBytes(plain), copy.ToArray());
        // Our secret-key text round-trips to what age-keygen wrote.
        Assert.Contains(identities[0].ToSecretText(), File.ReadAllText(identityFile));
    }

    [Fact]
    public void A_wrong_identity_or_a_flipped_byte_is_refused_with_the_reason()
    {
        var right = AgeIdentity.Generate();
        var plaintext = TestFolder.RandomBytes(100_000);
        var encrypted = new MemoryStream();
        using (var e = AgeFormat.Encrypt(new MemoryStream(plaintext), plaintext.Length, [right.Recipient])) e.CopyTo(
            encrypted);

        var wrong = Assert.Throws<AgeException>(() =>
            AgeFormat.Decrypt(new MemoryStream(encrypted.ToArray()), [AgeIdentity.Generate()]));
        Assert.Equal(AgeFailure.NoMatch, wrong.Failure);

        var flipped = encrypted.ToArray();
        flipped[^100] ^= 1;
        var damaged = Assert.Throws<AgeException>(() => AgeFormat.Decrypt(new MemoryStream(flipped), [right])
            .CopyTo(Stream.Null));
        Assert.Equal(AgeFailure.Payload, damaged.Failure);

        var truncated = encrypted.ToArray()[..^1];
        Assert.Equal(AgeFailure.Payload,
            Assert.Throws<AgeException>(() => AgeFormat.Decrypt(new MemoryStream(truncated), [right])
            .CopyTo(Stream.Null)).Failure);
    }

    [Fact]
    public void Keys_parse_strictly_and_errors_never_echo_a_secret()
    {
        var identity = AgeIdentity.Generate();
        Assert.True(AgeRecipient.TryParse(identity.Recipient.Text, out _));
        Assert.False(AgeRecipient.TryParse(identity.Recipient.Text[..^1]
            + (identity.Recipient.Text[^1] == 'q' ? 'p' : 'q'), out _));
        Assert.False(AgeRecipient.TryParse(identity.ToSecretText(), out _));
        var secret = identity.ToSecretText();
        var e = Assert.Throws<FormatException>(() =>
            AgeIdentity.ParseFile("# created: today\n" + secret[..^2] + "xx\n"));
        Assert.DoesNotContain(secret[20..40], e.Message);
        Assert.Contains("Line 2", e.Message);
    }
}

/// <summary>The Debian age CLI: a key pair made by age-keygen.</summary>
internal static class StockAge
{
    public static (string IdentityFile, string Recipient) KeyPair(string folder)
    {
        var identityFile = Path.Combine(folder, "key-" + Guid.NewGuid().ToString("N")[..6] + ".txt");
        var (exit, output) = StockReaders.Run("age-keygen", "-o", identityFile);
        Assert.True(exit == 0, output);
        var (exit2, recipient) = StockReaders.Run("age-keygen", "-y", identityFile);
        Assert.True(exit2 == 0, recipient);
        return (identityFile, recipient.Trim());
    }
}
