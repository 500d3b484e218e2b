using BackupManager.Web;
using BackupManager.Web.Cluster;
using BackupManager.Web.Commands;
using BackupManager.Web.Identity;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

// Nothing this process creates (backups, audit log, temp files, restored files before their recorded mode) is readable
// by other local users.
BackupManager.Core.IO.PrivateFiles.RestrictProcessUmask();

// app:* commands run on a host of their own, without the web front ends (see ConsoleCommandRunner.BuildHost).
if (ConsoleCommandRunner.IsCommand(args)) return await ConsoleCommandRunner.RunAsync(args);

var builder = WebApplication.CreateBuilder(
    new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
WebApplication app;
try
{
    builder.AddBackupEngine();
    builder.AddClusterLocking();
    builder.AddIdentityAndPermissions();
    builder.AddWebFrontEnds();
    builder.AddSchedulesAndHealth(runSchedules: true);
    builder.AddClusterSignInKeys();
    app = builder.Build();
    BackupEngineHostingExtensions.ValidateSettings(app.Services, requireDatabase: true);
}
catch (OptionsValidationException e)
{
    return BackupEngineHostingExtensions.ReportConfigurationError(e);
}

app.UseWebFrontEnds();
await app.RunAsync();
return 0;

public partial class Program;
