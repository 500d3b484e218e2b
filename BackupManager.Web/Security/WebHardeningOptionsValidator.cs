using System.Net;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Security;

/// <summary>Every proxy address must parse: a typo would silently give every client the proxy's sign-in
/// budget.</summary>
public sealed class WebHardeningOptionsValidator : IValidateOptions<WebHardeningOptions>
{
    public ValidateOptionsResult Validate(string? name, WebHardeningOptions options)
    {
        var bad = options.KnownProxies.Select((p, i) => (p, i)).Where(x => !IPAddress.TryParse(x.p, out _))
            .Select(x => $"Backup__Web__KnownProxies__{x.i}={x.p} is not an IP address; give the address the reverse "
                + $"proxy connects from, such as 127.0.0.1.").ToList();
        bad.AddRange(options.AllowedOrigins.Select((o, i) => (o, i)).Where(x => !IsOrigin(x.o))
            .Select(x => $"Backup__Web__AllowedOrigins__{x.i}={x.o} is not an origin; write it as "
                + "https://clinic.example (scheme, host, optional port, no path)."));
        return bad.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(bad);
    }

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value.Trim().TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;
}
