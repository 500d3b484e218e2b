using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// What lands at every destination (read there: the folder, the sshd's served folder, the bucket through s3rver's API)
/// reveals nothing: every object but the catalog is an age file the stock CLI opens, no name is a content hash, and no
/// object — read raw, inflated, or as the base64 inside gzipped JSON — holds a patient's name or a file's name.
/// </summary>
public sealed class NoPlaintextAtDestinationTests
{
    private const string PatientName = "Hypatia Quillfeather-Vandersloot";
    private const string FileName = "quillfeather-knee-mri.dcm";
    private static readonly string[] Secrets = [PatientName, FileName, "patient-1.jpg", "I consent to treatment"];

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task Every_stored_object_is_searched_for_a_patient_and_a_file_name_and_only_the_catalog_is_not_age(
        string kind)
    {
        var (h, identityFile) = await OffsiteCopyTests.ClinicWithDestinationAsync(kind);
        await using var _ = h;
        await h.Database.ExecuteAsync($"INSERT INTO patients (name) VALUES ('{PatientName}')");
        // A scan whose header names the patient, as DICOM files do: compressible, so the archive deflates it.
        TestFolder.WriteFile(Path.Combine(h.Xrays, "2026", FileName), Encoding.UTF8.GetBytes(
            string.Concat(Enumerable.Repeat($"PatientName={PatientName}; ", 3000))));
        var backup = await h.CreateBackupAsync();
        var offsite = h.Get<OffsiteService>();
        Assert.True(Assert.Single(await offsite.CopyPendingAsync()).Succeeded);
        // The archive itself holds every secret in a readable form: the search below would find an unencrypted copy.
        using (var zip = ZipFile.OpenRead(h.PathOf(backup.Filename)))
        {
            var inflated = zip.Entries.SelectMany(e => Entry(e).Concat(Encoding.UTF8.GetBytes(e.FullName))).ToArray();
            Assert.All(Secrets, s => Assert.True(inflated.AsSpan().IndexOf(Encoding.UTF8.GetBytes(s)) >= 0, s));
        }

        var destination = h.Options.Destinations["offsite"];
        var stored = await DestinationContents.ReadAsync(destination);
        var catalog = $"backups/{backup.Filename}.json";
        Assert.Contains(catalog, stored.Keys);
        Assert.Contains(stored.Keys, k => k.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal));
        var plainHashes = Directory.GetFiles(Path.GetDirectoryName(h.Xrays)!, "*", SearchOption.AllDirectories)
            .Select(f => SHA256.HashData(File.ReadAllBytes(f))).Append(SHA256.HashData(
            File.ReadAllBytes(h.PathOf(backup.Filename)))).Select(Convert.ToHexStringLower).ToHashSet();
        using var scratch = new TestFolder();
        foreach (var key in stored.Keys)
        {
            Assert.All(Secrets, s => Assert.DoesNotContain(s, key, StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(Path.GetFileName(key), plainHashes);
            var bytes = await DestinationContents.BytesOfAsync(destination, key);
            foreach (var form in ReadableForms(bytes))
            foreach (var secret in Secrets)
            foreach (var encoding in new[] { Encoding.UTF8, Encoding.Unicode })
                Assert.False(form.AsSpan().IndexOf(encoding.GetBytes(secret)) >= 0,
                    $"{key} holds \"{secret}\" ({encoding.WebName}) in plaintext");
            if (key == catalog) continue; // the one plaintext object: what the list shows, no names
            Assert.Equal("age-encryption.org/v1\n", Encoding.ASCII.GetString(bytes, 0, 22));
            var file = Path.Combine(scratch.Path, "object.age");
            await File.WriteAllBytesAsync(file, bytes);
            var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o",
                Path.Combine(scratch.Path, "out"), file);
            Assert.True(exit == 0, $"{key}: {output}");
            if (kind == "folder") Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(destination.Path!, key)));
        }
    }

    private static byte[] Entry(ZipArchiveEntry entry)
    {
        using var content = entry.Open();
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The stored bytes, and what they inflate to as gzip or raw deflate, and the base64 strings of any
    /// JSON among those decoded: every form an unencrypted object of the off-site format could be read in.</summary>
    private static List<byte[]> ReadableForms(byte[] bytes)
    {
        List<byte[]> forms = [bytes];
        foreach (var inflated in new[] { Inflate(() => new GZipStream(new MemoryStream(bytes),
            CompressionMode.Decompress)), Inflate(() => new DeflateStream(new MemoryStream(bytes),
            CompressionMode.Decompress)) })
            if (inflated is not null) forms.Add(inflated);
        foreach (var form in forms.ToList())
        {
            try
            {
                using var json = JsonDocument.Parse(form);
                forms.AddRange(Base64Strings(json.RootElement));
            }
            catch (JsonException) { } // not JSON
        }
        return forms;
    }

    private static byte[]? Inflate(Func<Stream> open)
    {
        try
        {
            using var stream = open();
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.Length > 0 ? output.ToArray() : null;
        }
        catch (InvalidDataException) { return null; } // not a deflate stream from its first byte
    }

    private static IEnumerable<byte[]> Base64Strings(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Base64Strings(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Base64Strings),
        JsonValueKind.String when element.TryGetBytesFromBase64(out var decoded) => [decoded],
        _ => [],
    };
}
