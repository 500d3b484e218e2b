namespace BackupManager.Core.Pitr;

/// <summary>
/// Point-in-time recovery settings (<c>Backup__Pitr__*</c>): continuous WAL from a replication slot plus base backups
/// in <c>&lt;Backup__Directory&gt;/pitr</c>. Validated at start by <see cref="PitrOptionsValidator"/>.
/// </summary>
public sealed class PitrOptions
{
    /// <summary>Runs the WAL receiver in the web app (Backup__Pitr__Enabled).</summary>
    public bool Enabled { get; set; }

    /// <summary>Connection string of a role with REPLICATION; empty uses the backed-up database's connection.</summary>
    public string? Connection { get; set; }

    /// <summary>Days a point in time stays restorable: older base backups and WAL go.</summary>
    public int KeepDays { get; set; } = 14;

    /// <summary>Health: how far (seconds) the received WAL may trail the server.</summary>
    public int MaxLagSeconds { get; set; } = 60;

    /// <summary>Health: how many bytes of WAL the slot may hold back on the database server.</summary>
    public long MaxSlotRetainedBytes { get; set; } = 2L << 30;

    /// <summary>Off-site: the segment being written (.partial) goes to each destination at least this often (seconds)
    /// while it changes.</summary>
    public int OffsitePartialSeconds { get; set; } = 60;
}
