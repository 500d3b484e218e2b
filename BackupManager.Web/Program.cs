using BackupManager.Web;
using BackupManager.Web.Console;
using BackupManager.Web.Identity;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

var isCommand = ConsoleCommandRunner.IsCommand(args);
// Commands keep stdout for their output: no command-line configuration parsing, warnings only, logs on stderr.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = isCommand ? [] : args, ContentRootPath = AppContext.BaseDirectory });
if (isCommand)
{
    builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Default", "Warning"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")]);
}

builder.AddBackupEngine();
builder.AddIdentityAndPermissions();
builder.AddWebFrontEnds();
builder.AddSchedulesAndHealth(runSchedules: !isCommand);

var app = builder.Build();
try
{
    BackupEngineHostingExtensions.ValidateSettings(app.Services, requireDatabase: !isCommand);
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine("Configuration error: " + string.Join(Environment.NewLine, e.Failures));
    return ExitCodes.Usage;
}
if (isCommand) return await ConsoleCommandRunner.RunAsync(app.Services, args);

app.UseWebFrontEnds();
await app.RunAsync();
return 0;

public partial class Program;
