namespace BackupManager.Core;

/// <summary>
/// Settings of the backup engine. Bound from the <c>Backup</c> configuration section plus the historical root keys
/// <c>MAX_BACKUPS</c> and <c>BACKUP_SCHEDULE</c>; validated at start by <see cref="BackupOptionsValidator"/>.
/// </summary>
public sealed class BackupOptions
{
    public const string SectionName = "Backup";

    /// <summary>Folder that holds the backup archives, the lock, the audit log and the restore journal.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Connection string of the database to back up; empty means the application's own
    /// (ConnectionStrings:Default).</summary>
    public string? Database { get; set; }

    /// <summary>
    /// Connection string of the database's owner (a role without superuser rights) for the SQL that comes from an
    /// archive: a restore and a restore drill. Needed when <see cref="Database"/> logs in as a superuser, which then
    /// only runs SQL BackupManager writes itself (creating roles and databases, renames).
    /// </summary>
    public string? RestoreConnection { get; set; }

    /// <summary>Folders whose files go into every full backup. Their last path segments must be distinct.</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>Glob patterns, relative to each folder, of files to leave out (e.g. <c>**/*.tmp</c>).</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>How many daily and manual backups retention keeps (MAX_BACKUPS).</summary>
    public int MaxBackups { get; set; } = 10;

    /// <summary>How many weekly backups retention keeps apart from the daily ones.</summary>
    public int KeepWeekly { get; set; } = 8;

    /// <summary>How many days pre-restore safety backups are kept.</summary>
    public int KeepSafetyDays { get; set; } = 7;

    /// <summary>Folder with pg_dump and pg_restore; empty picks the newest installed PostgreSQL client that fits the
    /// server.</summary>
    public string? PgBinDirectory { get; set; }

    /// <summary>How long one pg_dump or pg_restore may run before it is stopped.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// Deflate level (0-9) of the database dump's zip entry, compressed in process by zlib-ng on up to four cores
    /// while the files are written. 6: what an off-site copy sends after rows changed all over a table is that table
    /// deflated, and level 1 made it 1.7 times larger (12.0 MB against 6.9 MB on the benchmark); 1 is the fastest.
    /// </summary>
    public int DumpCompressionLevel { get; set; } = 6;

    /// <summary>
    /// Parallel pg_restore jobs (tables and indexes at once) when restoring into the staging database. More than one
    /// needs the dump as a temporary file next to the backups; one streams it straight from the archive in a single
    /// transaction. 0 picks half the cores (at most 4), and 1 below 4 cores, where the file extraction running
    /// alongside
    /// takes the other core (measured on 2 cores: 2 jobs were no faster, and cost a temporary copy of the dump).
    /// </summary>
    public int RestoreJobs { get; set; }

    /// <summary>The <see cref="RestoreJobs"/> to use on this machine.</summary>
    public int EffectiveRestoreJobs => RestoreJobs > 0 ? RestoreJobs : Environment.ProcessorCount < 4
        ? 1 : Math.Min(Environment.ProcessorCount / 2, 4);

    /// <summary>Database to connect to for CREATE / RENAME / DROP DATABASE during a restore.</summary>
    public string MaintenanceDatabase { get; set; } = "postgres";

    /// <summary>Off-site destinations by name (<c>Backup__Destinations__&lt;name&gt;__Type</c> = s3, sftp or
    /// folder).</summary>
    public Dictionary<string,
        Offsite.DestinationOptions> Destinations { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>age recipients everything sent off-site (and every encrypted download) is encrypted to.</summary>
    public Offsite.EncryptionOptions Encryption { get; set; } = new();

    /// <summary>Priority of scheduled creates (Backup__ScheduledPriority, "low" or "normal"): normal by default, the
    /// clinic is closed.</summary>
    public string ScheduledPriority { get; set; } = "normal";

    /// <summary>Priority of creates from the page, the API and the console (Backup__ManualPriority): low by default,
    /// the clinic may be open.</summary>
    public string ManualPriority { get; set; } = "low";

    /// <summary>The parsed <see cref="ScheduledPriority"/> (validated at start).</summary>
    public BackupPriority ScheduledPriorityLevel => BackupPriorities.Parse(ScheduledPriority,
        BackupPriority.Normal) ?? BackupPriority.Normal;

    /// <summary>The parsed <see cref="ManualPriority"/> (validated at start).</summary>
    public BackupPriority ManualPriorityLevel => BackupPriorities.Parse(ManualPriority,
        BackupPriority.Low) ?? BackupPriority.Low;

    /// <summary>
    /// How fast a low-priority create reads the dump and the files together (bytes per second) while the database
    /// server serves others (or always, see <see cref="LowPriorityFollowsLoad"/>). 10 MiB/s kept nearly all of the
    /// clinic's throughput on the benchmark's curve (docs/performance.md), with room for the second or so it takes to
    /// notice that load began.
    /// </summary>
    public long LowPriorityBytesPerSecond { get; set; } = 10L << 20;

    /// <summary>
    /// Whether a low-priority create reads at full speed while the database server is quiet
    /// (Backup__LowPriorityFollowsLoad, default true); false limits it to <see cref="LowPriorityBytesPerSecond"/> the
    /// whole time.
    /// </summary>
    public bool LowPriorityFollowsLoad { get; set; } = true;

    /// <summary>
    /// Above how many transactions per second by others (every database of the server together, over the last 1.5 s)
    /// the server counts as busy (Backup__LowPriorityBusyTransactionsPerSecond). A create's own connections add up to
    /// about 17 a second while it starts (measured), a clinic's users at work many more; pgbench -S adds thousands.
    /// </summary>
    public double LowPriorityBusyTransactionsPerSecond { get; set; } = 50;

    /// <summary>SQL the restore drill runs in the restored scratch database; each must return true (e.g. <c>SELECT
    /// count(*) &gt; 0 FROM patients</c>).</summary>
    public List<string> DrillChecks { get; set; } = [];

    /// <summary>Point-in-time recovery (Backup__Pitr__*).</summary>
    public Pitr.PitrOptions Pitr { get; set; } = new();

    /// <summary>Set when MAX_BACKUPS was present but not a number, so validation can name the bad value.</summary>
    public string? InvalidMaxBackups { get; set; }

    /// <summary>These settings with other file roots (every other setting kept, also ones added later).</summary>
    public BackupOptions WithPaths(List<string> paths)
    {
        var copy = (BackupOptions)MemberwiseClone();
        copy.Paths = paths;
        return copy;
    }
}
