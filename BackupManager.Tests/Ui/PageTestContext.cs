using System.Security.Claims;
using BackupManager.Core;
using BackupManager.Core.Audit;
using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Services;
using BackupManager.Web.Identity;
using BackupManager.Web.Scheduling;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using NSubstitute;

namespace BackupManager.Tests.Ui;

/// <summary>
/// A bUnit context for the pages: MudBlazor with its providers, the engine substituted by NSubstitute, and the real
/// job runner, audit log and lock over a temporary folder.
/// </summary>
public sealed class PageTestContext : IAsyncDisposable
{
    // The job runner starts work on the thread pool; under a loaded CI machine that can take more than bUnit's 1 s.
    static PageTestContext() => BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(20);

    /// <summary><paramref name="pitr"/>: point-in-time recovery on, with no database (its state then names the
    /// problem), over the window a test lays out in <see cref="PitrLayout"/>. <paramref name="share"/>: the job
    /// runner shares its jobs there (several servers).</summary>
    public PageTestContext(bool withPermission = true, Action<BackupOptions>? offsite = null, bool pitr = false,
        IJobStateShare? share = null)
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        Context.Services.AddMudServices();
        var services = Context.Services;
        services.AddSingleton(Engine);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new BackupOperationLock(Folder.Sub("backups")));
        services.AddSingleton(sp => new AuditLog(Folder.Sub("backups"), TimeProvider.System));
        services.AddSingleton(sp => _runner = new BackupJobRunner(Engine,
            sp.GetRequiredService<Core.Offsite.OffsiteService>(), sp.GetRequiredService<BackupOperationLock>(),
            sp.GetRequiredService<AuditLog>(), TimeProvider.System, NullLogger<BackupJobRunner>.Instance,
            sp.GetRequiredService<PointInTimeRecovery>(), share));
        services.AddSingleton<AuditedOperations>();
        services.AddSingleton(new ClinicClock(Options.Create(new ScheduleOptions { TimeZone = "Europe/Paris" }),
            TimeProvider.System));
        services.AddSingleton<AntiforgeryStateProvider, NoAntiforgery>();
        var scheduleOptions = Options.Create(new ScheduleOptions { TimeZone = "Europe/Paris" });
        services.AddSingleton(scheduleOptions);
        services.AddSingleton<BackupScheduleCatalog>();
        services.AddSingleton(new ScheduleHistory(Folder.Sub("backups")));
        services.AddSingleton<ScheduleOverview>();
        services.AddSingleton<Core.Storage.IBackupStore>(new Core.Storage.BackupFolderStore(Folder.Sub("backups")));
        services.AddSingleton(new Web.Notifications.Notifier([], NullLogger<Web.Notifications.Notifier>.Instance));
        services.AddSingleton(Options.Create(new Core.Health.BackupHealthOptions()));
        services.AddSingleton<Microsoft.Extensions.Logging.ILogger<Web.Health.BackupHealthService>>(
            NullLogger<Web.Health.BackupHealthService>.Instance);
        var engineOptions = new BackupOptions { Directory = Folder.Sub("backups") };
        offsite?.Invoke(engineOptions);
        engineOptions.Pitr.Enabled = pitr;
        if (pitr) engineOptions.Paths = [Folder.Sub("clinic", "xrays")];
        services.AddSingleton(new PitrSource(engineOptions, null));
        services.AddSingleton<PitrStatusReader>();
        services.AddSingleton(new Core.Database.ExternalProcessRunner(
            NullLogger<Core.Database.ExternalProcessRunner>.Instance));
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton<PointInTimeRecovery>();
        services.AddSingleton(Options.Create(engineOptions));
        services.AddSingleton(sp => new Core.Offsite.OffsiteService(Options.Create(engineOptions),
            sp.GetRequiredService<Core.Storage.IBackupStore>(), Engine,
            TimeProvider.System, NullLogger<Core.Offsite.OffsiteService>.Instance, OpenStorage));
        services.AddSingleton<Web.Health.BackupHealthService>();
        services.AddSingleton(Options.Create(new Web.Endpoints.ApiOptions()));
        services.AddSingleton<HistoryService>();
        services.AddSingleton<BackupsPageData>();
        services.AddSingleton<IActionAuthorization>(Gate);
        var auth = Context.AddAuthorization();
        auth.SetAuthorized("admin@clinic.test");
        if (withPermission)
        {
            auth.SetClaims(new Claim(Permissions.ClaimType, Permissions.ManageBackups));
            auth.SetPolicies(Permissions.ManageBackups);
        }
        Engine.GetStatusAsync(Arg.Any<CancellationToken>()).Returns(new BackupFolderStatus(0, 10, 0, 50L << 30, null));
    }

    private BackupJobRunner? _runner;

    public BunitContext Context { get; } = new();
    /// <summary>What the account store says at the moment of an action; a test withdraws the permission with
    /// it.</summary>
    public TestActionAuthorization Gate { get; } = new();
    public IBackupService Engine { get; } = Substitute.For<IBackupService>();
    public TestFolder Folder { get; } = new();
    public BackupJobRunner Jobs => Context.Services.GetRequiredService<BackupJobRunner>();
    public PitrLayout PitrLayout => new(Folder.Sub("backups"));
    /// <summary>Opens a destination's storage (set before the first render to wrap or replace the real one).
    /// </summary>
    public Func<string, Core.Offsite.DestinationOptions, Core.Offsite.Destinations.IDestinationStorage>? OpenStorage
    {
        get;
        set;
    }

    /// <summary>Renders MudBlazor's providers (dialogs and snackbars render inside them), then the component.</summary>
    public (IRenderedComponent<MudDialogProvider> Dialogs, IRenderedComponent<MudSnackbarProvider> Snackbars,
        IRenderedComponent<T> Page) Render<T>()
        where T : Microsoft.AspNetCore.Components.IComponent
    {
        Context.Render<MudPopoverProvider>();
        var dialogs = Context.Render<MudDialogProvider>();
        var snackbars = Context.Render<MudSnackbarProvider>();
        return (dialogs, snackbars, Context.Render<T>());
    }

    /// <summary>
    /// Polls for an engine call: jobs call the engine from a pool thread, which renders nothing a bUnit wait could
    /// re-check on.
    /// </summary>
    public Task<bool> EngineReceivedAsync<TRequest>(string method, Func<TRequest, bool> matches) =>
        Cluster.ClusterTestDatabase.EventuallyAsync(() => Engine.ReceivedCalls().Any(c =>
            c.GetMethodInfo().Name == method && c.GetArguments().OfType<TRequest>().Any(matches)),
            TimeSpan.FromSeconds(20));

    public static BackupInfo Backup(string filename, BackupTrigger trigger = BackupTrigger.Manual,
        long size = 1_500_000, bool pinned = false, params string[] contains) =>
        new(filename, size, Core.Storage.BackupFileName.TimeOf(filename), trigger, contains.Length == 0
            ? [BackupContents.Database, BackupContents.Files] : contains, "admin@clinic.test", pinned, true, 0);

    public async ValueTask DisposeAsync()
    {
        // A job a page started may still be ending; no page asked for the runner: no job ran.
        if (_runner is not null) await JobSettling.WaitAsync(_runner, TimeSpan.FromSeconds(5));
        await Context.DisposeAsync();
        Folder.Dispose();
    }

    /// <summary>
    /// Stands in for the account store's answer in bUnit (the real check, against PostgreSQL, is proven in the browser
    /// tests): allowed until <see cref="Withdraw"/>, then every action is refused and counted.
    /// </summary>
    public sealed class TestActionAuthorization : IActionAuthorization
    {
        private bool _withdrawn;
        public int Refused { get; private set; }
        public void Withdraw() => _withdrawn = true;

        public Task<Actor?> AuthorizeAsync()
        {
            if (!_withdrawn) return Task.FromResult<Actor?>(new Actor("admin@clinic.test", "web"));
            Refused++;
            return Task.FromResult<Actor?>(null);
        }
    }

    private sealed class NoAntiforgery : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken? GetAntiforgeryToken() =>
            new("test-token", "__RequestVerificationToken");
    }
}
