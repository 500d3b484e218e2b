namespace BackupManager.Web.Security;

/// <summary>Production hardening, section <c>Backup:Web</c>.</summary>
public sealed class WebHardeningOptions
{
    public const string SectionName = "Backup:Web";

    /// <summary>Redirect HTTP to HTTPS and send HSTS (Backup__Web__RequireHttps).</summary>
    public bool RequireHttps { get; set; }

    /// <summary>Addresses of reverse proxies whose X-Forwarded-For / -Proto are believed (Backup__Web__KnownProxies__0,
    /// …).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Origins besides the request's own host that may open the live page
    /// (Backup__Web__AllowedOrigins__0, …).</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
