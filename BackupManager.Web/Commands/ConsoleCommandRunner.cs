using BackupManager.Core;
using BackupManager.Web.Cluster;
using BackupManager.Web.Identity;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Commands;

/// <summary>Runs <c>app:*</c> commands in the same executable as the web app, with the same services and
/// settings.</summary>
public static class ConsoleCommandRunner
{
    public const string Prefix = "app:";

    public static bool IsCommand(string[] args) => args.Length > 0
        && args[0].StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Builds the command host, checks the settings and runs the command <paramref name="args"/> names;
    /// returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        IHost host;
        try
        {
            host = BuildHost();
        }
        catch (OptionsValidationException e)
        {
            return BackupEngineHostingExtensions.ReportConfigurationError(e);
        }
        using (host)
        {
            try
            {
                BackupEngineHostingExtensions.ValidateSettings(host.Services, requireDatabase: false);
            }
            catch (OptionsValidationException e)
            {
                return BackupEngineHostingExtensions.ReportConfigurationError(e);
            }
            return await RunAsync(host.Services, args);
        }
    }

    /// <summary>
    /// A generic host with the web app's settings and services minus its front ends: the engine, the account store
    /// and the health check. Without Kestrel, Blazor and authentication about 100 fewer assemblies load, which is
    /// most of a command's cold start — and a create's dump starts that much sooner.
    /// </summary>
    public static IHost BuildHost()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [], // stdout and the arguments belong to the command: no command-line configuration
            ContentRootPath = AppContext.BaseDirectory,
            // The same environment the web app would run in (ASPNETCORE_ENVIRONMENT wins there too).
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production,
        });
        builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // Warnings only by default; the operator's Logging__LogLevel__* variables, added again after, still win.
        builder.Configuration.AddInMemoryCollection(
            [new("Logging:LogLevel:Default", "Warning"), new("Logging:LogLevel:Microsoft", "Warning")]);
        builder.Configuration.AddEnvironmentVariables();
        builder.AddBackupEngine();
        builder.AddClusterLocking();
        builder.AddUserAccounts();
        builder.AddSchedulesAndHealth(runSchedules: false);
        return builder.Build();
    }

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        await using var scope = services.CreateAsyncScope();
        var command = args[0] is "app:help" ? null
            : scope.ServiceProvider.GetKeyedService<IConsoleCommand>(args[0][Prefix.Length..]);
        if (command is null)
        {
            if (args[0] is not "app:help") Console.Error.WriteLine($"Unknown command {args[0]}.");
            PrintHelp(All(scope.ServiceProvider));
            return args[0] is "app:help" ? ExitCodes.Success : ExitCodes.Usage;
        }
        try
        {
            await Cluster.ClusterMeetingDatabase.PrepareAsync(
                scope.ServiceProvider.GetRequiredService<IServiceScopeFactory>(), cancel.Token);
            // Finish an interrupted restore or remove a killed create's leftovers before doing anything else.
            foreach (var message in await scope.ServiceProvider.GetRequiredService<IBackupService>()
                .RecoverAsync(cancel.Token))
                Console.Error.WriteLine(message);
            return await command.RunAsync(args.Skip(1).ToList(), cancel.Token);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{e.Message}\nUsage: {Prefix}{command.Name} {command.Usage}");
            return ExitCodes.Usage;
        }
        catch (OptionsValidationException e)
        {
            return BackupEngineHostingExtensions.ReportConfigurationError(e);
        }
        catch (BackupException e)
        {
            Console.Error.WriteLine($"Error: {e.Message}");
            return e.Kind switch
            {
                BackupErrorKind.Busy => ExitCodes.Busy,
                BackupErrorKind.Damaged => ExitCodes.Damaged,
                BackupErrorKind.NotFound => ExitCodes.NotFound,
                BackupErrorKind.InvalidInput or BackupErrorKind.Refused => ExitCodes.Usage,
                BackupErrorKind.Destination => ExitCodes.CopyFailed,
                BackupErrorKind.Interrupted => ExitCodes.Failure,
                _ => ExitCodes.Failure,
            };
        }
        catch (Identity.UserAccountException e)
        {
            Console.Error.WriteLine($"Error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A bug, not bad input: one clear line for the operator; the stack trace only for whoever asks for it.
            scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("BackupManager.Console")
                .LogDebug(e, "{Command} failed unexpectedly", args[0]);
            Console.Error.WriteLine(
                $"Error: an unexpected {e.GetType().Name} stopped {args[0]}: {e.Message} Nothing incomplete is listed "
                + $"as a backup. " +
                "This is a bug: rerun with Logging__LogLevel__Default=Debug to see where it happened, and report it.");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Every registered command (each registered under its own name).</summary>
    public static IEnumerable<IConsoleCommand> All(IServiceProvider services)
        => services.GetKeyedServices<IConsoleCommand>(KeyedService.AnyKey);

    private static void PrintHelp(IEnumerable<IConsoleCommand> commands)
    {
        Console.Error.WriteLine("Commands:");
        foreach (var c in commands.OrderBy(c => c.Name, StringComparer.Ordinal))
            Console.Error.WriteLine($"  {Prefix}{c.Name} {c.Usage}\n      {c.Summary}");
    }
}
