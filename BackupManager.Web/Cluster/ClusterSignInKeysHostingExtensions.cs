using BackupManager.Core.Cluster;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>With Backup__Cluster__Enabled, one data-protection key ring for every instance; nothing when off.</summary>
public static class ClusterSignInKeysHostingExtensions
{
    public static WebApplicationBuilder AddClusterSignInKeys(this WebApplicationBuilder builder)
    {
        var options = new ClusterOptions();
        builder.Configuration.GetSection(ClusterOptions.SectionName).Bind(options);
        if (!options.Enabled) return builder;
        var connectionString = Data.AccountsDatabase.ConnectionString(builder.Configuration);
        // Every instance must read the others' cookies: one application name, one key ring in the database.
        builder.Services.AddDataProtection().SetApplicationName("BackupManager");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(_ =>
            new ConfigureOptions<KeyManagementOptions>(keys =>
            {
                // The key ring may load before StartupRecovery has made the accounts database on a new install.
                Data.AccountsDatabase.EnsureExistsAsync(connectionString,
                    builder.Configuration["Backup:MaintenanceDatabase"] ?? "postgres", CancellationToken.None)
                    .GetAwaiter().GetResult();
                using (var database = Npgsql.NpgsqlDataSource.Create(connectionString))
                    ClusterSchema.InstallAsync(database, options.Schema, CancellationToken.None)
                        .GetAwaiter().GetResult();
                keys.XmlRepository = new ClusterKeyRepository(connectionString, options.Schema);
            }));
        return builder;
    }
}
