using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BackupManager.Core.Offsite;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// What a test destination really holds, read at the destination and never through the copier's storage code: a
/// folder from disk, the sftp server's served folder from disk (the test sshd runs on this machine), the bucket through
/// s3rver's own S3 API with the AWS SDK. Keys are relative to the destination's root (or prefix).
/// </summary>
public static class DestinationContents
{
    /// <summary>Every stored object's key, size and version: the SHA-256 of a file's bytes, an S3 object's ETag (the
    /// MD5 of its bytes), so an object sent again under the same name counts as sent (age output differs every
    /// time).</summary>
    public static async Task<Dictionary<string, (long Size, string Version)>> ReadAsync(DestinationOptions destination)
    {
        var objects = new Dictionary<string, (long, string)>(StringComparer.Ordinal);
        if (destination.Type != "s3")
        {
            if (!Directory.Exists(destination.Path)) return objects;
            foreach (var file in Directory.EnumerateFiles(destination.Path, "*", SearchOption.AllDirectories))
                objects[Path.GetRelativePath(destination.Path, file)] = (new FileInfo(file).Length,
                    Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
            return objects;
        }
        using var client = Client(destination);
        var request = new ListObjectsV2Request { BucketName = destination.Bucket, Prefix = PrefixOf(destination) };
        ListObjectsV2Response response;
        do
        {
            response = await client.ListObjectsV2Async(request);
            foreach (var o in response.S3Objects ?? [])
                objects[o.Key[request.Prefix.Length..]] = (o.Size ?? 0, o.ETag);
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return objects;
    }

    /// <summary>The stored bytes of <paramref name="key"/>, exactly as the destination holds them.</summary>
    public static async Task<byte[]> BytesOfAsync(DestinationOptions destination, string key)
    {
        if (destination.Type != "s3") return await File.ReadAllBytesAsync(Path.Combine(destination.Path!, key));
        using var client = Client(destination);
        using var response = await client.GetObjectAsync(destination.Bucket, PrefixOf(destination) + key);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    /// <summary>Where the plaintext of <paramref name="key"/> lies in <paramref name="archive"/> (the test fails when
    /// it is no part of it), and its length.</summary>
    public static async Task<(int At, int Length)> LocateAsync(DestinationOptions destination, string key,
        byte[] archive, IReadOnlyList<Core.Offsite.Age.AgeIdentity> identities)
    {
        using var plaintext = new MemoryStream();
        using (var decrypted = Core.Offsite.Age.AgeFormat.Decrypt(new MemoryStream(await BytesOfAsync(destination,
            key)), identities)) await decrypted.CopyToAsync(plaintext);
        var piece = plaintext.ToArray();
        var at = archive.AsSpan().IndexOf(piece);
        Assert.True(at >= 0, $"{key} ({piece.Length:N0} bytes) is no part of the archive");
        return (at, piece.Length);
    }

    /// <summary>The keys that are new in <paramref name="after"/> or were written again, with their sizes.</summary>
    public static Dictionary<string, long> Added(IReadOnlyDictionary<string, (long Size, string Version)> before,
        IReadOnlyDictionary<string, (long Size, string Version)> after) =>
        after.Where(o => !before.TryGetValue(o.Key, out var old) || old != o.Value)
            .ToDictionary(o => o.Key, o => o.Value.Size, StringComparer.Ordinal);

    private static string PrefixOf(DestinationOptions destination) => destination.Prefix!.Trim('/') + "/";

    private static AmazonS3Client Client(DestinationOptions destination) => new(
        new BasicAWSCredentials(destination.AccessKeyId, destination.SecretAccessKey), new AmazonS3Config
        {
            ServiceURL = destination.ServiceUrl, AuthenticationRegion = destination.Region, ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
}
