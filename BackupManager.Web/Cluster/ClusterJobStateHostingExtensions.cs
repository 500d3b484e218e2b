using BackupManager.Core.Cluster;
using BackupManager.Core.Jobs;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>With Backup__Cluster__Enabled: job state lives in the cluster database (schema
/// <see cref="ClusterOptions.Schema"/> of the accounts database). Without it nothing is registered: jobs stay in
/// memory and no table is made.</summary>
public static class ClusterJobStateHostingExtensions
{
    public static IHostApplicationBuilder AddClusterJobState(this IHostApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue<bool>($"{ClusterOptions.SectionName}:Enabled")) return builder;
        var services = builder.Services;
        services.AddSingleton(sp => new ClusterJobTable(sp.GetRequiredService<IOptions<ClusterOptions>>().Value));
        services.AddSingleton<DatabaseJobStateShare>();
        services.AddSingleton<IJobStateShare>(sp => sp.GetRequiredService<DatabaseJobStateShare>());
        services.AddHostedService<ClusterHeartbeatService>();
        services.AddHostedService<ClusterJobWatcher>();
        return builder;
    }
}
