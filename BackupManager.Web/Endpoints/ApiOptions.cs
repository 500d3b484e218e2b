namespace BackupManager.Web.Endpoints;

/// <summary>Settings of the API that are not the engine's.</summary>
public sealed class ApiOptions
{
    /// <summary>Largest accepted upload in bytes (Backup__MaxUploadBytes); default 100 GiB.</summary>
    public long MaxUploadBytes { get; set; } = 100L << 30;
}
