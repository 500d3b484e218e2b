namespace BackupManager.Core.Cluster;

/// <summary>
/// Running several app servers against one database and one backup folder (section <c>Backup:Cluster</c>). Off by
/// default: a single server needs no cluster tables and no extra configuration. On: Quartz's clustered job store, the
/// operation lock also as a PostgreSQL advisory lock, singletons by leadership, and job state in the database.
/// </summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Backup:Cluster";

    /// <summary>Backup__Cluster__Enabled.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The database every instance meets in (Quartz's tables, advisory locks, job state). Not a setting of its own:
    /// the host sets it to the accounts database's connection string, whose owner creates the cluster's schemas.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Schema of BackupManager's own cluster tables (job state, instances).</summary>
    public string Schema { get; set; } = "backupmanager_cluster";

    /// <summary>Schema of Quartz's tables (Quartz's own PostgreSQL script).</summary>
    public string QuartzSchema { get; set; } = "quartz";

    /// <summary>This instance's name in job records and logs; empty: host name and process id.</summary>
    public string InstanceName { get; set; } = "";

    /// <summary>How often an instance records that it is alive (also Quartz's cluster check-in interval).</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>How long without a heartbeat before another instance takes over a singleton or marks the dead
    /// instance's jobs interrupted. The promise is a hand-over within 30 s.</summary>
    public int HandoverSeconds { get; set; } = 20;

    public string ResolvedInstanceName =>
        string.IsNullOrWhiteSpace(InstanceName) ? $"{Environment.MachineName}-{Environment.ProcessId}" : InstanceName;
}
