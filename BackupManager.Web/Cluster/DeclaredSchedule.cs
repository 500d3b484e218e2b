using Quartz;

namespace BackupManager.Web.Cluster;

/// <summary>The jobs and triggers this instance's configuration declares: in a clustered job store, everything else
/// stored under the scheduler's name is what an earlier configuration declared, and is removed at start.</summary>
public sealed class DeclaredSchedule
{
    private readonly HashSet<JobKey> _jobs = [];
    private readonly HashSet<TriggerKey> _triggers = [];

    public IReadOnlySet<JobKey> Jobs => _jobs;
    public IReadOnlySet<TriggerKey> Triggers => _triggers;

    public JobKey Job(JobKey key)
    {
        _jobs.Add(key);
        return key;
    }

    public TriggerKey Trigger(TriggerKey key)
    {
        _triggers.Add(key);
        return key;
    }
}
