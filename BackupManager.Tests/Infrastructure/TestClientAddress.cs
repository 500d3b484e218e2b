using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Lets one test speak as many clients through the in-memory server: the <see cref="Header"/> of a request becomes
/// its connection's remote address before anything else runs. Registered only by tests that ask for it.
/// </summary>
public sealed class TestClientAddress : IStartupFilter
{
    public const string Header = "X-Test-Client";

    public static void Register(IServiceCollection services) =>
        services.AddSingleton<IStartupFilter, TestClientAddress>();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header].ToString(), out var address))
                context.Connection.RemoteIpAddress = address;
            return nextMiddleware(context);
        });
        next(app);
    };

    /// <summary>A distinct private address per client number.</summary>
    public static string For(int client) => $"10.{client / 65536 % 256}.{client / 256 % 256}.{client % 256}";
}
