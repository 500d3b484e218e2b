using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Core.IO;

namespace BackupManager.Tests.Infrastructure;

/// <summary>Archives written straight through the engine's writer, for tests that need a shape a create never makes.
/// </summary>
internal static class TestArchives
{
    /// <summary>Writes and seals an archive at <paramref name="path"/>: <paramref name="addEntries"/> adds the entries,
    /// and <paramref name="manifest"/> is completed with the writer's entries and totals.</summary>
    public static async Task WriteAsync(string path, BackupManifest manifest,
        Func<BackupArchiveWriter, Task> addEntries)
    {
        ArchiveSummary summary;
        await using (var output = new UncachedFileWriter(path))
        {
            using var writer = new BackupArchiveWriter(output);
            await addEntries(writer);
            summary = writer.Complete(manifest with { Entries = writer.Entries, Totals = writer.Totals }, "test");
            output.Complete(flushToDisk: false);
        }
        ArchiveSummary.SealFile(path, summary);
    }
}
