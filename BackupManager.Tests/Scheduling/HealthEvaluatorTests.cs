using BackupManager.Core;
using BackupManager.Core.Health;
using BackupManager.Core.Jobs;

namespace BackupManager.Tests.Scheduling;

public sealed class HealthEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static BackupFolderStatus Status(double newestHoursAgo, long newestSize = 1000, long free = 1_000_000,
        long total = 5000) =>
        new(3, 10, total, free, new BackupInfo("backup-2026-11-27-00-00-00.zip", newestSize,
            Now.AddHours(-newestHoursAgo), BackupTrigger.Daily, ["database"], null, false, true, 0));

    private static Dictionary<string, ScheduledRun> Runs(params ScheduledRunOutcome[] outcomes) =>
        outcomes.Select((o, i) => new ScheduledRun(i == 0 ? "daily" : "weekly", Now.AddHours(-1), o, null,
            o == ScheduledRunOutcome.Succeeded ? null : "pg_dump failed", false))
            .ToDictionary(r => r.Schedule);

    [Fact]
    public void Healthy_when_every_check_passes()
    {
        var report = BackupHealthEvaluator.Evaluate(Status(3), Runs(ScheduledRunOutcome.Succeeded),
            new BackupHealthOptions(), Now);
        Assert.True(report.Healthy);
        Assert.Equal(["recent-backup", "scheduled-runs", "free-space"], report.Checks.Select(c => c.Name));
    }

    [Theory]
    [InlineData(27, ScheduledRunOutcome.Succeeded, 1_000_000, 0, "recent-backup")]
    [InlineData(3, ScheduledRunOutcome.Failed, 1_000_000, 0, "scheduled-runs")]
    [InlineData(3, ScheduledRunOutcome.Skipped, 1_000_000, 0, "scheduled-runs")]
    [InlineData(3, ScheduledRunOutcome.Succeeded, 500, 0, "free-space")]
    [InlineData(3, ScheduledRunOutcome.Succeeded, 1_000_000, 4000, "total-size")]
    public void Each_failing_check_makes_the_whole_unhealthy_and_says_why(double hoursAgo, ScheduledRunOutcome outcome,
        long free, long cap, string failing)
    {
        var report = BackupHealthEvaluator.Evaluate(Status(hoursAgo, free: free), Runs(outcome),
            new BackupHealthOptions { MaxTotalBytes = cap }, Now);
        Assert.False(report.Healthy);
        Assert.Equal([failing], report.Checks.Where(c => !c.Healthy).Select(c => c.Name));
        Assert.NotEmpty(report.Summary);
    }

    [Fact]
    public void A_restore_left_unfinished_is_unhealthy_with_its_own_sentence()
    {
        var status = Status(
            3) with { UnfinishedRestore = "The restore of backup-x.zip is complete, but the safety backup of the " +
            "state it replaced is not written yet." };
        var report = BackupHealthEvaluator.Evaluate(status, Runs(ScheduledRunOutcome.Succeeded),
            new BackupHealthOptions(), Now);
        Assert.False(report.Healthy);
        Assert.Equal(["restore"], report.Checks.Where(c => !c.Healthy).Select(c => c.Name));
        Assert.Equal(status.UnfinishedRestore, report.Summary);
    }

    [Fact]
    public void No_backup_at_all_is_unhealthy()
    {
        var report = BackupHealthEvaluator.Evaluate(new BackupFolderStatus(0, 10, 0, 1000, null), new Dictionary<string,
            ScheduledRun>(), new BackupHealthOptions(), Now);
        Assert.False(report.Healthy);
        Assert.Contains("no backup yet", report.Summary);
    }
}
