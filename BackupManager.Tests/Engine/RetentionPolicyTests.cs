using BackupManager.Core;
using BackupManager.Core.Retention;

namespace BackupManager.Tests.Engine;

public sealed class RetentionPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static BackupInfo Backup(int hoursAgo, BackupTrigger trigger, bool pinned = false, bool readable = true) =>
        new($"backup-{Now.AddHours(-hoursAgo):yyyy-MM-dd-HH-mm-ss}.zip", 1, Now.AddHours(-hoursAgo), trigger,
            ["database"], null, pinned, readable, 0);

    private static Dictionary<int, (bool Keep, string Reason)> Decide(RetentionPolicy policy,
        params (int HoursAgo, BackupTrigger Trigger, bool Pinned)[] backups)
    {
        var infos = backups.Select(b => Backup(b.HoursAgo, b.Trigger, b.Pinned)).ToList();
        return policy.Evaluate(infos, Now)
            .ToDictionary(d => (int)(Now - d.Backup.CreatedAt).TotalHours, d => (d.Keep, d.Reason));
    }

    [Fact]
    public void Daily_and_manual_backups_beyond_MAX_BACKUPS_are_deleted_oldest_first_with_a_reason()
    {
        var decisions = Decide(new RetentionPolicy(maxBackups: 3, keepWeekly: 8, keepSafetyDays: 7),
            (1, BackupTrigger.Daily, false), (2, BackupTrigger.Manual, false), (3, BackupTrigger.Daily, false),
            (4, BackupTrigger.Upload, false), (5, BackupTrigger.Daily, false));

        Assert.Equal([true, true, true, false, false], decisions.OrderBy(d => d.Key).Select(d => d.Value.Keep));
        Assert.Equal("newest backup", decisions[1].Reason);
        Assert.Contains("MAX_BACKUPS=3", decisions[3].Reason);
        Assert.StartsWith("older than the newest 3", decisions[5].Reason);
    }

    [Fact]
    public void Weekly_backups_are_counted_apart_from_the_dailies()
    {
        var decisions = Decide(new RetentionPolicy(maxBackups: 1, keepWeekly: 2, keepSafetyDays: 7),
            (1, BackupTrigger.Daily, false), (2, BackupTrigger.Daily, false),
            (24 * 7, BackupTrigger.Weekly, false), (24 * 14, BackupTrigger.Weekly, false),
                (24 * 21, BackupTrigger.Weekly, false));

        Assert.True(decisions[1].Keep);
        Assert.False(decisions[2].Keep);
        Assert.True(decisions[24 * 7].Keep);
        Assert.True(decisions[24 * 14].Keep);
        Assert.False(decisions[24 * 21].Keep);
        Assert.Contains("Backup__KeepWeekly=2", decisions[24 * 21].Reason);
    }

    [Fact]
    public void Safety_backups_are_kept_by_age_and_do_not_push_out_regular_backups()
    {
        var decisions = Decide(new RetentionPolicy(maxBackups: 1, keepWeekly: 0, keepSafetyDays: 7),
            (1, BackupTrigger.Daily, false), (2, BackupTrigger.PreRestore, false),
                (24 * 8, BackupTrigger.PreRestore, false));

        Assert.True(decisions[1].Keep);
        Assert.True(decisions[2].Keep);
        Assert.False(decisions[24 * 8].Keep);
        Assert.Contains("older than 7 days", decisions[24 * 8].Reason);
    }

    [Fact]
    public void Pinned_backups_and_the_newest_backup_are_never_deleted()
    {
        var decisions = Decide(new RetentionPolicy(maxBackups: 1, keepWeekly: 0, keepSafetyDays: 0),
            (1, BackupTrigger.PreRestore, false), (2, BackupTrigger.Daily, false), (3, BackupTrigger.Daily, true),
                (4, BackupTrigger.Daily, false));

        Assert.Equal((true, "newest backup"), decisions[1]);
        Assert.True(decisions[2].Keep);
        Assert.Equal((true, "pinned"), decisions[3]);
        Assert.False(decisions[4].Keep);
    }

    [Fact]
    public void The_backup_just_made_and_unreadable_archives_are_kept()
    {
        var policy = new RetentionPolicy(maxBackups: 1, keepWeekly: 0, keepSafetyDays: 0);
        var newest = Backup(1, BackupTrigger.Daily);
        var justMade = Backup(5, BackupTrigger.Weekly);
        var unreadable = Backup(9, BackupTrigger.Unknown, readable: false);

        var decisions = policy.Evaluate([newest, justMade, unreadable], Now, justCreated: justMade.Filename)
            .ToDictionary(d => d.Backup.Filename);

        Assert.Equal("just made", decisions[justMade.Filename].Reason);
        Assert.True(decisions[unreadable.Filename].Keep);
        Assert.Contains("unreadable", decisions[unreadable.Filename].Reason);
    }
}
