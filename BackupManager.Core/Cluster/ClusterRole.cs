namespace BackupManager.Core.Cluster;

/// <summary>Work that must run on exactly one instance of a cluster; each role is led on its own (see
/// <see cref="ClusterLockKeys.Leadership"/>). The numbers are part of the lock keys: never renumber.</summary>
public enum ClusterRole
{
    /// <summary>Copies backups to the off-site destinations.</summary>
    OffsiteCopy = 1,
    /// <summary>Sends WAL and base backups off-site.</summary>
    PitrOffsite = 2,
    /// <summary>Runs pg_receivewal (one receiver per replication slot).</summary>
    WalReceiver = 3,
    /// <summary>Re-checks health and sends its notifications.</summary>
    HealthNotifications = 4,
    /// <summary>Runs the backups a schedule missed while no instance ran.</summary>
    CatchUp = 5,
}
