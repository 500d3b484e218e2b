using System.Text;
using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>The streaming manifest reader gives what the serializer gives, whatever the buffer cuts, and refuses what
/// is not a manifest.</summary>
public sealed class ManifestJsonReaderTests : IDisposable
{
    private readonly TestFolder _folder = new();

    [Theory]
    [InlineData(16, true)]
    [InlineData(37, false)]
    [InlineData(200, true)]
    [InlineData(1 << 20, true)]
    public void It_reads_what_the_serializer_reads_wherever_its_buffer_cuts_the_text(int bufferSize, bool indented)
    {
        var manifest = SampleManifest();
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, indented ? BackupJson.Options : BackupJson.Compact);

        using var entries = new SpilledManifestEntries(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));
        var read = new ManifestJsonReader(new MemoryStream(json), entries, 1_000, bufferSize).Read();

        Assert.Equal(manifest.Entries.Count, read.Entries.Count);
        Assert.Equal(JsonSerializer.Serialize(manifest, BackupJson.Options),
            JsonSerializer.Serialize(read with { Entries = [.. read.Entries] }, BackupJson.Options));
    }

    [Theory]
    [InlineData("{\"format_version\": 2, \"entries\": []} x", "more after its end")]
    [InlineData("{\"format_version\": 2, \"entries\": [", "")]
    [InlineData("{\"entries\": {}}", "not a list")]
    [InlineData("{\"entries\": [], \"entries\": []}", "two lists")]
    [InlineData("{\"entries\": [{\"size\": 1, \"sha256\": \"00\"}]}", "no path")]
    [InlineData("{\"entries\": [7]}", "not an object")]
    [InlineData("[]", "not an object")]
    [InlineData("{\"entries\": [{\"path\": \"a\", \"sha256\": \"0\"}, {\"path\": \"b\", \"sha256\": \"0\"}]}",
        "more entries than the archive's 1")]
    public void Text_that_is_not_a_manifest_is_refused(string text, string why)
    {
        using var entries = new SpilledManifestEntries(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));
        var error = Assert.ThrowsAny<JsonException>(() =>
            new ManifestJsonReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), entries, 1, 8).Read());
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void A_manifest_that_holds_more_than_its_limit_besides_its_entries_is_refused_as_it_streams()
    {
        using var entries = new SpilledManifestEntries(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));
        var text = "{\"warnings\": [\"" + new string('w', 100) + "\"], \"entries\": []}";
        var error = Assert.ThrowsAny<JsonException>(() => new ManifestJsonReader(
            new MemoryStream(Encoding.UTF8.GetBytes(text)), entries, 1, 16, maxHeaderBytes: 64).Read());
        Assert.Contains("more than 64 bytes besides its entries", error.Message);
    }

    [Fact]
    public void An_entry_larger_than_1_MiB_is_refused_before_it_is_held_whole()
    {
        using var entries = new SpilledManifestEntries(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));
        var text = "{\"entries\": [{\"path\": \"a\", \"sha256\": \"0\", \"x\": \"" + new string('x', 3 << 19)
            + "\"}]}";
        var error = Assert.ThrowsAny<JsonException>(() => new ManifestJsonReader(
            new MemoryStream(Encoding.UTF8.GetBytes(text)), entries, 1, 4096).Read());
        Assert.Contains("one of its entries is larger than 1 MiB", error.Message);
    }

    private static BackupManifest SampleManifest()
    {
        var entries = new List<ManifestEntry>
        {
            new("files/xrays/", 0, new string('e', 64), DateTimeOffset.Parse("2026-01-02T03:04:05.1234567+02:00"))
                { Mode = "0750", Uid = 1000, Gid = 1000 },
            new("db/clinic.dump", 123_456_789_012, new string('a', 64), null, 4_000_000_000),
            new("files/xrays/\u00e9t\u00e9 \"quoted\" \\ back/\u6b6f.dcm", 5, new string('b', 64),
                DateTimeOffset.UnixEpoch) { Mode = "0644" },
        };
        for (var i = 0; i < 300; i++)
            entries.Add(new ManifestEntry($"files/notes/{i % 7}/note-{i}.txt", i * 31, Convert.ToHexStringLower(
                BitConverter.GetBytes((long)i)).PadLeft(64, '0'), DateTimeOffset.UnixEpoch.AddSeconds(i), (uint)i));
        return new BackupManifest
        {
            CreatedAt = DateTimeOffset.Parse("2026-12-07T10:00:00.5+00:00"),
            Trigger = BackupTrigger.Daily,
            RequestedBy = "schedule",
            Contains = [BackupContents.Database, BackupContents.Files],
            Database = new ManifestDatabase("clinic", "15.8", "15.8", "db/clinic.dump")
            {
                SnapshotLsn = "0/1A2B3C4D",
                RowCounts = new Dictionary<string, long> { ["public.patients"] = 500, ["billing.invoices"] = 12 },
                Roles = [new RoleRecord("clinic_reader", false, true, false, false, true, false, false, -1, null, [])],
            },
            Roots = [new ManifestRoot("xrays", "/srv/clinic/xrays", 1, 5)],
            Entries = entries,
            Totals = new ManifestTotals(entries.Count, entries.Sum(e => e.Size)),
            Warnings = ["Symbolic link /srv/clinic/x -> /etc was not followed."],
        };
    }

    public void Dispose() => _folder.Dispose();
}
