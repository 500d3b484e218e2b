using BackupManager.Core;

namespace BackupManager.Web;

/// <summary>
/// Before the web app serves anything: finish or undo an interrupted restore (it may swap the database), remove a
/// killed create's leftovers, then bring the Identity schema up to date. In cluster mode the accounts database is made
/// first when missing: the operation lock recovery takes lives there.
/// </summary>
internal sealed class StartupRecovery(IBackupService backups, IServiceScopeFactory scopes, Core.Audit.AuditLog audit,
    ILogger<StartupRecovery> logger, IConfiguration configuration,
    Microsoft.Extensions.Options.IOptions<Core.Cluster.ClusterOptions> cluster) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var accountsCreated = cluster.Value.Enabled && await Data.AccountsDatabase.EnsureExistsAsync(
            cluster.Value.ConnectionString, configuration["Backup:MaintenanceDatabase"] ?? "postgres",
            cancellationToken);
        foreach (var message in await backups.RecoverAsync(cancellationToken))
        {
            logger.LogWarning("{Message}", message);
            audit.Record("start-up", null, "recover", null, Core.Audit.AuditOutcome.Succeeded, message);
        }
        await using var scope = scopes.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<Identity.UserAccountService>();
        await accounts.MigrateAsync(cancellationToken, accountsCreated);
        await accounts.EnsureRolesAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
