using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackupManager.Core;
using BackupManager.Core.Archive;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Rewrites a real archive the way an attacker or a broken disk would, keeping everything else consistent (manifest
/// checksums and the summary comment), so a test proves the one defect it introduces is what gets refused.
/// </summary>
public static class ArchiveForger
{
    public sealed record ForgedEntry(string Name, byte[] Content);

    public static List<ForgedEntry> ReadEntries(string archivePath)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        return zip.Entries.Where(e => e.FullName != BackupManifest.EntryName).Select(e =>
        {
            using var s = e.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            return new ForgedEntry(e.FullName, m.ToArray());
        }).ToList();
    }

    public static JsonObject ReadManifest(string archivePath)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        using var s = zip.GetEntry(BackupManifest.EntryName)!.Open();
        return JsonNode.Parse(s)!.AsObject();
    }

    /// <summary>
    /// Writes <paramref name="entries"/> with a manifest that lists each of them (recomputed hashes) and a matching
    /// comment.
    /// </summary>
    public static void Write(
        string archivePath,
        JsonObject baseManifest,
        IReadOnlyList<ForgedEntry> entries,
        Func<JsonObject, JsonObject>? editManifestAfterSealing = null)
    {
        var manifest = JsonNode.Parse(baseManifest.ToJsonString())!.AsObject();
        var list = new JsonArray();
        foreach (var e in entries.DistinctBy(e => e.Name))
            list.Add(new JsonObject
            {
                ["path"] = e.Name,
                ["size"] = e.Content.Length,
                ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(e.Content)),
            });
        manifest["entries"] = list;
        var sealedBytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
        var writtenBytes = editManifestAfterSealing is null
            ? sealedBytes
            : JsonSerializer.SerializeToUtf8Bytes(editManifestAfterSealing(manifest));

        File.Delete(archivePath);
        var summary = new ArchiveSummary
        {
            CreatedAt = DateTimeOffset.UtcNow,
            Trigger = BackupTrigger.Manual,
            Contains = manifest["contains"]!.AsArray().Select(n => n!.GetValue<string>()).ToList(),
            Entries = entries.Count,
            ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(sealedBytes)),
        };
        using (var zip = ZipFile.Open(archivePath, ZipArchiveMode.Create))
        {
            foreach (var e in entries)
            {
                using var s = zip.CreateEntry(e.Name).Open();
                s.Write(e.Content);
            }
            using (var s = zip.CreateEntry(BackupManifest.EntryName).Open()) s.Write(writtenBytes);
            zip.Comment = summary.ToComment();
        }
        // Sealed like a real archive, so the one defect the test introduces is the only one.
        ArchiveSummary.SealFile(archivePath, summary);
    }
}
