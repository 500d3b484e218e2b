using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BackupManager.Web.Health;

/// <summary>The ASP.NET Core health check behind /health (status only for anonymous callers).</summary>
public sealed class BackupsHealthCheck(BackupHealthService health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context,
        CancellationToken cancellationToken = default)
    {
        var report = await health.EvaluateAsync(cancellationToken);
        return report.Healthy ? HealthCheckResult.Healthy(report.Summary) : HealthCheckResult.Unhealthy(report.Summary);
    }
}
