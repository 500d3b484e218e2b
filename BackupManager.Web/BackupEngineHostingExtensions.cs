using BackupManager.Core;
using BackupManager.Web.Configuration;
using BackupManager.Web.Console;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web;

/// <summary>Registers the backup engine, its settings and the console commands for the web host and the app:* commands alike.</summary>
public static class BackupEngineHostingExtensions
{
    public static WebApplicationBuilder AddBackupEngine(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddBackupEngine(options => BackupConfiguration.Bind(configuration, options), BackupConfiguration.DatabaseConnectionString(configuration));
        builder.Services.AddOptions<ScheduleOptions>().Configure(options => ScheduleOptions.Bind(configuration, options)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ScheduleOptions>, ScheduleOptionsValidator>();
        builder.Services.AddHostedService<StartupRecovery>();

        builder.Services.AddScoped<IConsoleCommand, CreateBackupCommand>();
        builder.Services.AddScoped<IConsoleCommand, RestoreBackupCommand>();
        builder.Services.AddScoped<IConsoleCommand, ListBackupsCommand>();
        builder.Services.AddScoped<IConsoleCommand, VerifyBackupCommand>();
        builder.Services.AddScoped<IConsoleCommand, DeleteBackupCommand>();
        builder.Services.AddScoped<IConsoleCommand, PruneBackupsCommand>();
        builder.Services.AddScoped<IConsoleCommand, Demo.SeedDemoCommand>();
        builder.Services.AddScoped<Demo.DemoClinicSeeder>();
        return builder;
    }

    /// <summary>Resolves every validated options class so a bad setting fails now, with its message, for commands too.</summary>
    public static void ValidateSettings(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<BackupOptions>>().Value;
        _ = services.GetRequiredService<IOptions<ScheduleOptions>>().Value;
    }
}

/// <summary>Finishes or undoes an interrupted restore and removes a killed create's leftovers when the web app starts.</summary>
internal sealed class StartupRecovery(IBackupService backups) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => backups.RecoverAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
