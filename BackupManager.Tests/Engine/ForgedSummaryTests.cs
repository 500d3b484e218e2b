using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The zip comment (the listing summary) is covered by no signature: an upload's listing date and contents come from
/// its verified manifest, and foreign archives never push the clinic's own backups out of retention.
/// </summary>
public sealed class ForgedSummaryTests
{
    [Fact]
    public async Task Uploads_whose_summary_says_2036_are_listed_by_their_manifest_and_push_no_own_backup_out()
    {
        await using var elsewhere = await EngineHarness.CreateAsync(withDatabase: false);
        TestFolder.WriteFile(Path.Combine(elsewhere.Xrays, "a.txt"), "x"u8.ToArray());
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 2, withDatabase: false);
        TestFolder.WriteFile(Path.Combine(h.Documents, "b.txt"), "y"u8.ToArray());
        var own = new List<string> { (await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename };
        await WallClock.NextSecondAsync();
        own.Add((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename);
        var forgedAt = new DateTimeOffset(2036, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 3; i++)
        {
            await WallClock.NextSecondAsync();
            var path = elsewhere.PathOf((await elsewhere.CreateBackupAsync(BackupScope.FilesOnly)).Filename);
            var forged = Path.Combine(elsewhere.Folder.Path, $"forged-{i}.zip");
            File.Copy(path, forged);
            ArchiveSummary.RewriteInFile(forged, ArchiveSummary.ReadFromFile(forged)! with
            {
                CreatedAt = forgedAt.AddDays(i), Contains = [BackupContents.Database, BackupContents.Files],
            });
            BackupInfo uploaded;
            await using (var upload = File.OpenRead(forged)) uploaded = await h.Engine.ImportAsync(upload,
                long.MaxValue, "x");
            Assert.True(uploaded.CreatedAt < DateTimeOffset.UtcNow.AddMinutes(1),
                $"listed as made at {uploaded.CreatedAt:u}");
            Assert.Equal([BackupContents.Files], uploaded.Contains);
        }

        await WallClock.NextSecondAsync();
        own.Add((await h.CreateBackupAsync(BackupScope.FilesOnly)).Filename); // its retention runs now

        var listed = (await h.Engine.ListAsync()).ToList();
        Assert.Contains(own[2], listed.Select(b => b.Filename));
        Assert.Contains(own[1], listed.Select(b => b.Filename)); // MAX_BACKUPS=2 own backups, whatever the uploads
        Assert.Equal(2, listed.Count(b => b.Foreign));
    }
}
