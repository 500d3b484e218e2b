using BackupManager.Core;

namespace BackupManager.Tests.Engine;

public sealed class BackupOptionsTests
{
    [Fact]
    public void Restore_jobs_set_by_hand_are_used_as_given()
    {
        Assert.Equal(3, new BackupOptions { RestoreJobs = 3 }.EffectiveRestoreJobs);
        Assert.Equal(1, new BackupOptions { RestoreJobs = 1 }.EffectiveRestoreJobs);
    }

    [Fact]
    public void Automatic_restore_jobs_stay_at_one_below_four_cores_and_take_half_the_cores_above_at_most_four()
    {
        var jobs = new BackupOptions().EffectiveRestoreJobs;
        Assert.InRange(jobs, 1, 4);
        if (Environment.ProcessorCount < 4) Assert.Equal(1, jobs); // where the safety backup already fills the cores
        else Assert.True(jobs <= Environment.ProcessorCount / 2);
    }
}
