namespace BackupManager.Core.Cluster;

/// <summary>
/// The fixed PostgreSQL advisory lock keys (bigint, session level) instances meet on in the accounts database. They
/// never change: instances of different versions must agree. High 32 bits spell "BMLK" (the operation lock) or "BMLD"
/// (leadership) and the low 32 bits number them; in pg_locks a key shows as classid = high, objid = low, objsubid = 1.
/// </summary>
public static class ClusterLockKeys
{
    /// <summary>The operation lock (create, restore, delete, prune and the rest): 0x424D4C4B00000001, in decimal
    /// 4777558664716222465.</summary>
    public const long OperationLock = 0x424D_4C4B_0000_0001;

    /// <summary>Leadership of one singleton role: 0x424D4C4400000000 + the role's number.</summary>
    public const long LeadershipBase = 0x424D_4C44_0000_0000;

    public static long Leadership(ClusterRole role) => LeadershipBase + (long)role;
}
