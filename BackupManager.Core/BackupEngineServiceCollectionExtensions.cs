using BackupManager.Core.Database;
using BackupManager.Core.Locking;
using BackupManager.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BackupManager.Core;

public static class BackupEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine. <paramref name="configureOptions"/> fills <see cref="BackupOptions"/> (the host binds
    /// configuration); <paramref name="databaseConnectionString"/> is the database to back up, null for files only.
    /// </summary>
    public static IServiceCollection AddBackupEngine(this IServiceCollection services,
        Action<BackupOptions> configureOptions, string? databaseConnectionString)
    {
        services.AddOptions<BackupOptions>().Configure(configureOptions).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BackupOptions>, BackupOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ExternalProcessRunner>();
        services.AddSingleton(sp =>
            Archive.ArchiveSigner.LoadOrCreate(
            Path.GetFullPath(sp.GetRequiredService<IOptions<BackupOptions>>().Value.Directory)));
        services.AddSingleton<IBackupStore>(sp =>
            new BackupFolderStore(sp.GetRequiredService<IOptions<BackupOptions>>().Value.Directory,
            sp.GetRequiredService<Archive.ArchiveSigner>()));
        // Cluster mode (Backup__Cluster__Enabled, bound by the host) adds the PostgreSQL advisory lock.
        services.AddSingleton(sp => new BackupOperationLock(sp.GetRequiredService<IBackupStore>().Directory,
            sp.GetRequiredService<IOptions<Cluster.ClusterOptions>>().Value));
        if (!string.IsNullOrWhiteSpace(databaseConnectionString))
        {
            services.AddSingleton(_ => new PostgresTarget(databaseConnectionString));
            services.AddSingleton(sp => sp.GetRequiredService<IOptions<BackupOptions>>().Value);
            services.AddSingleton<IDatabaseDumper, PgDumpRunner>();
            services.AddSingleton<IDatabaseRestorer, PgRestoreRunner>();
        }
        services.AddSingleton<BackupCommitted>();
        services.AddSingleton<IBackupService, BackupService>();
        services.AddSingleton(sp => new Audit.AuditLog(sp.GetRequiredService<IBackupStore>().Directory,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<Audit.AuditLog>>()));
        services.AddSingleton<Jobs.BackupJobRunner>();
        services.AddSingleton<Offsite.OffsiteService>();
        services.AddSingleton(sp => new Jobs.ScheduleHistory(sp.GetRequiredService<IBackupStore>().Directory));
        Pitr.PitrServiceCollectionExtensions.AddPointInTimeRecovery(services, databaseConnectionString);
        return services;
    }
}
