using BackupManager.Web.Health;

namespace BackupManager.Web.Commands;

/// <summary>app:backup-health: the health checks for external monitoring; exit code 0 healthy, 1 unhealthy.</summary>
public sealed class BackupHealthCommand(BackupHealthService health) : IConsoleCommand
{
    public string Name => "backup-health";
    public string Usage => "";
    public string Summary => "Prints the backup health checks; exits 1 when a check fails (for cron and monitoring).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        new CommandLine(arguments, []);
        var report = await health.EvaluateAsync(cancellationToken);
        foreach (var check in report.Checks)
            Console.WriteLine($"{(check.Healthy ? "ok  " : "FAIL")} {check.Name,-15} {check.Detail}");
        Console.WriteLine(report.Healthy ? "healthy" : "unhealthy");
        return report.Healthy ? ExitCodes.Success : ExitCodes.Failure;
    }
}
