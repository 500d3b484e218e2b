using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Pitr;

/// <summary>A failing destination (an unplugged disk) backs off on its own while a healthy one keeps receiving WAL,
/// and after 3 failed point-in-time copies in a row its health check turns bad and says what to do.</summary>
public sealed class PitrOffsiteFailureTests
{
    [Fact]
    public async Task A_failing_destination_does_not_slow_the_healthy_one()
    {
        using var keys = new TestFolder();
        var (_, recipient) = TestDestinations.Key(keys);
        var nas = keys.Sub("nas");
        var harness = await EngineHarness.CreateAsync(o => o.Pitr.Enabled = true);
        await harness.SeedAsync();
        var layout = new PitrLayout(harness.BackupDirectory);
        try
        {
            await using var host = await WebAppHost.StartAsync(harness: harness, settings: v =>
            {
                v["Backup:Pitr:Enabled"] = "true";
                v["Backup:Pitr:Connection"] = TestPostgres.With(harness.Database.AdminConnectionString,
                    harness.Database.Name);
                v["Backup:Encryption:Recipients:0"] = recipient;
                v["Backup:Destinations:nas:Type"] = "folder";
                v["Backup:Destinations:nas:Path"] = nas;
                v["Backup:Destinations:usb:Type"] = "folder";
                v["Backup:Destinations:usb:Path"] = Path.Combine(keys.Path, "unplugged");
            });
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(layout.SlotName),
                "the app's receiver to stream");
            var based = await host.Factory.Services.GetRequiredService<BaseBackup>().TakeAsync(CancellationToken.None);
            // Every round fails at usb: a global backoff (1 min, then 2) would hold this back past the bound.
            await PitrScenario.WaitForAsync(() => Task.FromResult(File.Exists(Path.Combine(nas, "pitr", "base",
                based.Name + ".json"))), "the worker to send the base backup to nas", seconds: 150);

            await harness.Database.ExecuteAsAdminAsync("CREATE TABLE notes (id int); INSERT INTO notes VALUES (1)");
            // The segment being written now (after nas got the base backup), completed by the switch below.
            var segment = await PitrScenario.AdminScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_lsn())");
            await TestPostgres.ExecuteAsync(harness.Database.AdminConnectionString, "postgres",
                "SELECT pg_switch_wal()");
            await PitrScenario.WaitForAsync(() => Task.FromResult(File.Exists(Path.Combine(layout.Wal, segment!))),
                "the receiver to complete " + segment);
            var remote = Path.Combine(nas, "pitr", "wal", segment + ".age");
            await PitrScenario.WaitForAsync(() => Task.FromResult(File.Exists(remote)),
                "the worker to send the new segment to nas while usb fails", seconds: 30);

            var usb = Assert.Single(host.Factory.Services.GetRequiredService<OffsiteService>().GetStatus(),
                d => d.Name == "usb");
            Assert.True(usb.State.PitrFailures >= 1, "usb never failed: the test proves nothing");
        }
        finally { await PitrScenario.DropSlotAsync(layout.SlotName); }
    }

    [Fact]
    public async Task After_three_failures_in_a_row_the_pitr_health_check_turns_bad_and_says_what_to_do()
    {
        using var keys = new TestFolder();
        var (_, recipient) = TestDestinations.Key(keys);
        var unplugged = Path.Combine(keys.Path, "usb-disk");
        await using var pitr = await PitrScenario.StartAsync(configureBackup: o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["usb"] = TestDestinations.Folder(unplugged);
        });
        await pitr.BaseBackupAsync();
        var copier = pitr.Harness.Get<PitrOffsiteCopier>();
        var offsite = pitr.Harness.Get<OffsiteService>();
        Core.Health.BackupCheck? Check() =>
            offsite.HealthChecks().SingleOrDefault(c => c.Name == "destination:usb:pitr");
        for (var i = 0; i < 2; i++)
            Assert.False(Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None)).Succeeded);
        Assert.True(Check() is null or { Healthy: true }, "bad after only two failures");

        Assert.False(Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None)).Succeeded);

        var check = Check();
        Assert.NotNull(check);
        Assert.False(check.Healthy);
        Assert.Contains("failed 3 times in a row", check.Detail);
        Assert.Contains("does not exist. Is the disk or the network share mounted?", check.Detail);
        Assert.Contains("lacks the newest WAL", check.Detail);
        Assert.Contains("app:check-destination usb", check.Detail);

        Directory.CreateDirectory(unplugged); // plugged in again: the next copy succeeds and the check clears
        Assert.True(Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None)).Succeeded);
        Assert.True(Check() is null or { Healthy: true });
    }
}
