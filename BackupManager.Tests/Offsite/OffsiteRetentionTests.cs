using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Tests.Offsite;

/// <summary>A destination keeps whole backups per period (the database and the files) and the most recent
/// few.</summary>
public sealed class OffsiteRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 18, 0, 0, TimeSpan.Zero);

    private static BackupInfo Backup(int daysAgo, int hour, params string[] contains)
    {
        var at = new DateTimeOffset(Now.Date.AddDays(-daysAgo).AddHours(hour), TimeSpan.Zero);
        return new BackupInfo($"backup-{at:yyyy-MM-dd-HH-mm-ss}.zip", 1, at, BackupTrigger.Manual, contains, null,
            false, true, 0);
    }

    private const string Db = BackupContents.Database, Files = BackupContents.Files;

    [Fact]
    public void After_a_files_only_backup_the_day_still_keeps_its_newest_database_copy()
    {
        var nightly = Backup(0, 0, Db, Files);
        var filesOnly = Backup(0, 12, Files);
        var older = Backup(1, 0, Db, Files);
        var options = new DestinationOptions { KeepDaily = 2, KeepWeekly = 0, KeepMonthly = 0, KeepLast = 0 };

        var kept = OffsiteRetention.Kept([nightly, filesOnly, older], options, 7, Now);

        Assert.Contains(filesOnly.Filename, kept.Keys);
        Assert.Contains(nightly.Filename, kept.Keys); // the day's newest database copy
        Assert.Contains("database", kept[nightly.Filename]);
        Assert.Contains(older.Filename, kept.Keys);
    }

    [Fact]
    public void A_full_backup_serves_both_and_an_older_one_of_the_same_day_goes()
    {
        var newest = Backup(0, 12, Db, Files);
        var earlier = Backup(0, 6, Db);
        var options = new DestinationOptions { KeepDaily = 1, KeepWeekly = 0, KeepMonthly = 0, KeepLast = 0 };

        var kept = OffsiteRetention.Kept([newest, earlier], options, 7, Now);

        Assert.Equal([newest.Filename], kept.Keys);
    }

    [Fact]
    public void The_most_recent_KeepLast_stay_whatever_their_day_and_the_default_is_three()
    {
        var afternoon = Backup(0, 15, Db, Files);
        var lastNight = Backup(0, 0, Db, Files);
        var before = Backup(0, 0, Db, Files) with { Filename = "backup-2026-12-04-23-59-59.zip",
            CreatedAt = Now.AddHours(-18).AddSeconds(-1) };
        var oldest = Backup(0, 0, Db, Files) with { Filename = "backup-2026-12-04-23-00-00.zip",
            CreatedAt = Now.AddHours(-19) };
        Assert.Equal(3, new DestinationOptions().KeepLast);
        var options = new DestinationOptions { KeepDaily = 1, KeepWeekly = 0, KeepMonthly = 0 };

        var kept = OffsiteRetention.Kept([afternoon, lastNight, before, oldest], options, 7, Now);

        Assert.Equal(new[] { afternoon, lastNight, before }.Select(b => b.Filename).Order(), kept.Keys.Order());
        Assert.Contains("KeepLast=3", kept[lastNight.Filename]);
    }
}
