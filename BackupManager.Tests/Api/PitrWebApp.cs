using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Api;

/// <summary>
/// The real app with point-in-time recovery on over a test's own seeded database: the app's own WAL receiver streams
/// (through the superuser, which has REPLICATION) and one base backup is taken. Disposal stops the app, then drops
/// the slot.
/// </summary>
internal sealed class PitrWebApp : IAsyncDisposable
{
    private PitrWebApp(WebAppHost host, HttpClient admin, string adminPassword, string slot)
    {
        Host = host;
        Admin = admin;
        AdminPassword = adminPassword;
        Slot = slot;
    }

    public WebAppHost Host { get; }
    public HttpClient Admin { get; }
    /// <summary>The password of admin@clinic.test, for a browser's sign-in.</summary>
    public string AdminPassword { get; }
    public string Slot { get; }
    public TestDatabase Database => Host.Harness.Database;

    public static async Task<PitrWebApp> StartAsync(bool kestrel = false)
    {
        var harness = await EngineHarness.CreateAsync(o => o.Pitr.Enabled = true);
        await harness.SeedAsync();
        var host = await WebAppHost.StartAsync(kestrel, harness: harness, settings: v =>
        {
            v["Backup:Pitr:Enabled"] = "true";
            v["Backup:Pitr:Connection"] = TestPostgres.With(harness.Database.AdminConnectionString,
                harness.Database.Name);
        });
        var slot = new PitrLayout(harness.BackupDirectory).SlotName;
        try
        {
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the app's receiver to stream");
            await host.Factory.Services.GetRequiredService<BaseBackup>().TakeAsync(CancellationToken.None);
            var password = await host.CreateUserAsync("admin@clinic.test", administrator: true);
            return new PitrWebApp(host, host.Client(await host.CreateTokenAsync("admin@clinic.test")), password, slot);
        }
        catch
        {
            await host.DisposeAsync();
            await PitrScenario.DropSlotAsync(slot);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Host.DisposeAsync();
        await PitrScenario.DropSlotAsync(Slot);
    }
}
