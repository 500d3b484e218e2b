using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>Registers what several instances need to share work safely: the leadership of singleton roles, and the
/// check of the cluster's timing settings. The operation lock reads the same <see cref="ClusterOptions"/> (bound in
/// <see cref="BackupEngineHostingExtensions.AddBackupEngine"/>), so console commands take the cluster lock
/// too.</summary>
public static class ClusterHostingExtensions
{
    public static IHostApplicationBuilder AddClusterLocking(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterTimingValidator>();
        builder.Services.AddSingleton<ClusterLeadership>();
        // Started with the web host only (commands never start theirs): first, so roles are known early.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterLeadership>());
        return builder;
    }
}
