using BackupManager.Core;
using BackupManager.Web.Cluster;
using BackupManager.Web.Configuration;
using BackupManager.Web.Commands;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web;

/// <summary>Registers the backup engine, its settings and the console commands for the web host and the app:* commands
/// alike.</summary>
public static class BackupEngineHostingExtensions
{
    public static IHostApplicationBuilder AddBackupEngine(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        // Before anything parses them: a malformed connection string is a configuration error, not a crash.
        ConnectionStringSettings.Validate(configuration);
        builder.Services.AddBackupEngine(options => BackupConfiguration.Bind(configuration, options),
            BackupConfiguration.DatabaseConnectionString(configuration));
        builder.Services.AddOptions<ScheduleOptions>()
            .Configure(options => ScheduleOptions.Bind(configuration, options)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ScheduleOptions>, ScheduleOptionsValidator>();
        builder.Services.AddOptions<Core.Cluster.ClusterOptions>().Configure(options =>
        {
            configuration.GetSection(Core.Cluster.ClusterOptions.SectionName).Bind(options);
            options.ConnectionString = Data.AccountsDatabase.ConnectionString(configuration);
        });
        builder.Services.AddHostedService<StartupRecovery>();
        // After StartupRecovery, which makes the accounts database the cluster's tables live in.
        builder.AddClusterJobState();

        // Keyed by name: a command resolves only its own dependencies (a backup command never loads Identity or EF
        // Core).
        var commands = builder.Services;
        commands.AddKeyedScoped<IConsoleCommand, CreateBackupCommand>("create-backup");
        commands.AddKeyedScoped<IConsoleCommand, RestoreBackupCommand>("restore-backup");
        commands.AddKeyedScoped<IConsoleCommand, ListBackupsCommand>("list-backups");
        commands.AddKeyedScoped<IConsoleCommand, VerifyBackupCommand>("verify-backup");
        commands.AddKeyedScoped<IConsoleCommand, DeleteBackupCommand>("delete-backup");
        commands.AddKeyedScoped<IConsoleCommand, PruneBackupsCommand>("prune-backups");
        commands.AddKeyedScoped<IConsoleCommand, CopyBackupCommand>("copy-backup");
        commands.AddKeyedScoped<IConsoleCommand, CheckDestinationCommand>("check-destination");
        commands.AddKeyedScoped<IConsoleCommand, RestoreDrillCommand>("restore-drill");
        commands.AddKeyedScoped<IConsoleCommand, Demo.SeedDemoCommand>("seed-demo");
        commands.AddKeyedScoped<IConsoleCommand>("create-admin",
            (sp, _) => new CreateUserCommand(sp.GetRequiredService<Identity.UserAccountService>(),
            administrator: true));
        commands.AddKeyedScoped<IConsoleCommand>("create-user",
            (sp, _) => new CreateUserCommand(sp.GetRequiredService<Identity.UserAccountService>(),
            administrator: false));
        commands.AddKeyedScoped<IConsoleCommand>("grant-admin",
            (sp, _) => new SetAdministratorCommand(sp.GetRequiredService<Identity.UserAccountService>(), grant: true));
        commands.AddKeyedScoped<IConsoleCommand>("revoke-admin",
            (sp, _) => new SetAdministratorCommand(sp.GetRequiredService<Identity.UserAccountService>(), grant: false));
        commands.AddKeyedScoped<IConsoleCommand, CreateTokenCommand>("create-token");
        commands.AddKeyedScoped<IConsoleCommand, RevokeTokenCommand>("revoke-token");
        commands.AddKeyedScoped<IConsoleCommand, ListTokensCommand>("list-tokens");
        commands.AddKeyedScoped<IConsoleCommand, BackupHealthCommand>("backup-health");
        commands.AddScoped<PointInTimeRestore>();
        commands.AddScoped<OffsitePointInTimeRestore>();
        commands.AddKeyedScoped<IConsoleCommand, ReceiveWalCommand>("receive-wal");
        commands.AddKeyedScoped<IConsoleCommand, BaseBackupCommand>("base-backup");
        commands.AddKeyedScoped<IConsoleCommand, PitrStatusCommand>("pitr-status");
        builder.Services.AddScoped<Demo.DemoClinicSeeder>();
        return builder;
    }

    private static bool SameDatabase(string? a, string? b)
    {
        if (string.IsNullOrWhiteSpace(a) || string.IsNullOrWhiteSpace(b)) return false;
        var (x, y) = (new Npgsql.NpgsqlConnectionStringBuilder(a), new Npgsql.NpgsqlConnectionStringBuilder(b));
        return string.Equals(x.Host, y.Host, StringComparison.OrdinalIgnoreCase) && x.Port == y.Port
            && string.Equals(x.Database, y.Database, StringComparison.Ordinal);
    }

    /// <summary>Prints a bad setting's messages (each names the variable and what it must be) to stderr; returns the
    /// exit code for it.</summary>
    public static int ReportConfigurationError(OptionsValidationException e)
    {
        Console.Error.WriteLine("Configuration error: " + string.Join(Environment.NewLine, e.Failures));
        return ExitCodes.Usage;
    }

    /// <summary>Resolves every validated options class so a bad setting fails now, with its message, for commands
    /// too.</summary>
    public static void ValidateSettings(IServiceProvider services, bool requireDatabase)
    {
        _ = services.GetRequiredService<IOptions<BackupOptions>>().Value;
        _ = services.GetRequiredService<IOptions<ScheduleOptions>>().Value;
        _ = services.GetRequiredService<IOptions<Security.WebHardeningOptions>>().Value;
        _ = services.GetRequiredService<IOptions<Core.Cluster.ClusterOptions>>().Value;
        var configuration = services.GetRequiredService<IConfiguration>();
        if (requireDatabase && string.IsNullOrWhiteSpace(configuration.GetConnectionString("Default")))
            throw new OptionsValidationException("ConnectionStrings", typeof(BackupOptions),
                ["ConnectionStrings__Default is not set. The web app keeps its users in PostgreSQL; set it to a "
                    + "connection string such as Host=127.0.0.1;Database=clinic;Username=…;Password=…"]);
        if (SameDatabase(Data.AccountsDatabase.ConnectionString(configuration),
            Configuration.BackupConfiguration.DatabaseConnectionString(configuration)))
            throw new OptionsValidationException("ConnectionStrings", typeof(BackupOptions),
                ["ConnectionStrings__Accounts names the database that is backed up. Accounts must live elsewhere, or "
                    + "a restore would bring back revoked access: leave it unset (it defaults to <database>_accounts) "
                    + "or name another database."]);
    }
}
