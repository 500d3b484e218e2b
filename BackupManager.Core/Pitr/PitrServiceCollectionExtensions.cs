using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BackupManager.Core.Pitr;

/// <summary>Registers point-in-time recovery's services (they do nothing until used: the receiver runs only when
/// the host starts it).</summary>
public static class PitrServiceCollectionExtensions
{
    public static IServiceCollection AddPointInTimeRecovery(this IServiceCollection services,
        string? databaseConnectionString)
    {
        services.AddSingleton(sp => new PitrSource(sp.GetRequiredService<IOptions<BackupOptions>>().Value,
            databaseConnectionString));
        services.AddSingleton<WalReceiver>();
        services.AddSingleton<BaseBackup>();
        services.AddSingleton<PitrStatusReader>();
        services.AddSingleton<PointInTimeRecovery>();
        services.AddSingleton<Offsite.Pitr.PitrOffsiteCopier>();
        services.AddSingleton<Offsite.Pitr.OffsitePointInTime>();
        services.AddSingleton<PitrDrill>();
        return services;
    }
}
