namespace BackupManager.Core.Offsite;

/// <summary>
/// One off-site destination, bound from <c>Backup__Destinations__&lt;name&gt;__*</c>. Which settings apply depends on
/// <see cref="Type"/>; <see cref="DestinationOptionsValidator"/> names every missing or bad one at start.
/// </summary>
public sealed class DestinationOptions
{
    /// <summary><c>s3</c>, <c>sftp</c> or <c>folder</c>.</summary>
    public string Type { get; set; } = "";

    // s3
    public string? ServiceUrl { get; set; }
    public string? Region { get; set; }
    public string? Bucket { get; set; }
    public string? Prefix { get; set; }
    public string? AccessKeyId { get; set; }
    public string? SecretAccessKey { get; set; }
    /// <summary>A file holding the secret key (mode 0600), so the secret is not in the environment.</summary>
    public string? SecretAccessKeyFile { get; set; }
    /// <summary>Path-style URLs (bucket in the path), which most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; set; }

    // sftp
    public string? Host { get; set; }
    public int Port { get; set; } = 22;
    public string? Username { get; set; }
    public string? PrivateKeyFile { get; set; }
    public string? Password { get; set; }
    /// <summary>The server's host key fingerprint exactly as <c>ssh-keygen -lf</c> prints it:
    /// <c>SHA256:…</c>.</summary>
    public string? HostKeySha256 { get; set; }
    /// <summary>sftp: how long the server may leave a request unanswered (or the connection unopened) before the
    /// copy or fetch stops and says so; the copy is retried later.</summary>
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary>sftp: the folder on the server; folder: the local mount (a NAS or USB disk).</summary>
    public string? Path { get; set; }

    // common
    public int KeepDaily { get; set; } = 14;
    /// <summary>How many of the most recent backups are kept whatever their day (a backup before a risky
    /// change).</summary>
    public int KeepLast { get; set; } = 3;
    public int KeepWeekly { get; set; } = 8;
    public int KeepMonthly { get; set; } = 12;
    /// <summary>Never delete anything there (write-only credentials, object-locked buckets): expiry is the
    /// destination's job.</summary>
    public bool NeverDelete { get; set; }
    /// <summary>How many pieces upload, or are fetched and decrypted, at once: S3 and SFTP requests wait mostly on the
    /// network, a folder's writes on its disk. A fetch holds at most 64 MiB of them.</summary>
    public int Parallel { get; set; } = 4;
    /// <summary>Health turns unhealthy when a backup has waited longer than this to be copied.</summary>
    public int MaxLagHours { get; set; } = 26;
    /// <summary>Lets an s3 or sftp destination run without <c>Backup__Encryption__Recipients</c> (health
    /// warns).</summary>
    public bool AllowUnencrypted { get; set; }

    public DestinationType? ParsedType => Type.Trim().ToLowerInvariant() switch
    {
        "s3" => DestinationType.S3,
        "sftp" => DestinationType.Sftp,
        "folder" => DestinationType.Folder,
        _ => null,
    };
}
