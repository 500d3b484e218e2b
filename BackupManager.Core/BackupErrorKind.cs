namespace BackupManager.Core;

/// <summary>Why an operation failed, so every front end can map it to its own status (HTTP code, exit code,
/// snackbar).</summary>
public enum BackupErrorKind
{
    /// <summary>The caller sent something invalid (a bad filename, conflicting options).</summary>
    InvalidInput,
    /// <summary>The named backup does not exist in the backup folder.</summary>
    NotFound,
    /// <summary>Another create, restore or delete holds the operation lock.</summary>
    Busy,
    /// <summary>An archive failed verification: bad checksum, truncated, edited or unsafe entries.</summary>
    Damaged,
    /// <summary>pg_dump, pg_restore or the database server refused or failed.</summary>
    Database,
    /// <summary>The machine is missing something the operation needs (a tool, disk space, permissions).</summary>
    Environment,
    /// <summary>The operation was cancelled or timed out.</summary>
    Cancelled,
    /// <summary>An upload is larger than the configured limit.</summary>
    TooLarge,
    /// <summary>A backup with that name already exists.</summary>
    AlreadyExists,
    /// <summary>An archive that verifies but may not be accepted (an upload dated in the future).</summary>
    Refused,
    /// <summary>An off-site destination could not be reached or refused an operation.</summary>
    Destination,
    /// <summary>The app server that ran a job stopped before the job finished (several servers: its heartbeat ended).
    /// </summary>
    Interrupted,
}
