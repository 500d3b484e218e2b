using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Archive;

namespace BackupManager.Tests.Engine;

/// <summary>
/// What changes in every backup — the time, who asked, the dump's snapshot LSN — lies in the manifest's first
/// lines, its head chunk, however many tables the database has: an unchanged backup then sends only that head and
/// the manifest's end off-site, not a piece from its middle.
/// </summary>
public sealed class ManifestHeadTests
{
    [Fact]
    public void The_time_the_requester_and_the_snapshot_lsn_are_in_the_head_of_a_manifest_of_many_tables()
    {
        var manifest = new BackupManifest
        {
            CreatedAt = DateTimeOffset.UtcNow,
            Trigger = BackupTrigger.Manual,
            RequestedBy = "scheduler",
            Contains = ["database", "files"],
            Database = new ManifestDatabase("clinic", "15.18", "15.18", "db/clinic.dump")
            {
                RowCounts = Enumerable.Range(0, 200).ToDictionary(i => $"public.table_{i}", i => (long)i),
                SnapshotLsn = "7/47816928",
            },
        };
        var lines = JsonSerializer.Serialize(manifest, BackupJson.Options).Split('\n');
        foreach (var field in new[] { "\"created_at\"", "\"requested_by\"", "\"trigger\"", "\"snapshot_lsn\"" })
        {
            var line = Array.FindIndex(lines, l => l.Contains(field, StringComparison.Ordinal));
            Assert.InRange(line, 0, BackupArchiveWriter.ManifestHeadLines - 1);
        }
    }
}
