using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Registered only with Backup__Cluster__Enabled, before Quartz's hosted service: the clustered job store finds its
/// tables when the scheduler starts. Runs after <see cref="StartupRecovery"/>, which creates the accounts database.
/// </summary>
internal sealed class QuartzSchemaStartup(IOptions<ClusterOptions> cluster, ILogger<QuartzSchemaStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        bool created;
        try
        {
            created = await QuartzSchemaInstaller.InstallAsync(cluster.Value.ConnectionString, cancellationToken);
        }
        catch (Npgsql.PostgresException e)
        {
            throw new InvalidOperationException(
                $"Could not create Quartz's tables (schema \"{QuartzSchemaInstaller.Schema}\") in the accounts "
                + $"database: {e.MessageText}. With Backup__Cluster__Enabled=true the login of "
                + "ConnectionStrings__Accounts (or of ConnectionStrings__Default) must own that database.", e);
        }
        if (created)
            logger.LogInformation("Created Quartz's cluster tables in schema {Schema}", QuartzSchemaInstaller.Schema);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
