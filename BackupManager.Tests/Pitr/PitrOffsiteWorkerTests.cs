using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Pitr;

/// <summary>In the running web app (its own WAL receiver, a folder destination with an age recipient), completed WAL
/// segments and a base backup reach the destination by the worker alone: nobody calls the copier.</summary>
public sealed class PitrOffsiteWorkerTests
{
    [Fact]
    public async Task The_worker_sends_completed_segments_and_the_base_backup_on_its_own()
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var usb = keys.Sub("usb");
        var harness = await EngineHarness.CreateAsync(o => o.Pitr.Enabled = true);
        await harness.SeedAsync();
        var slot = new PitrLayout(harness.BackupDirectory).SlotName;
        try
        {
            await using var host = await WebAppHost.StartAsync(harness: harness, settings: v =>
            {
                v["Backup:Pitr:Enabled"] = "true";
                v["Backup:Pitr:Connection"] = TestPostgres.With(harness.Database.AdminConnectionString,
                    harness.Database.Name);
                v["Backup:Pitr:OffsitePartialSeconds"] = "5";
                v["Backup:Encryption:Recipients:0"] = recipient;
                v["Backup:Destinations:usb:Type"] = "folder";
                v["Backup:Destinations:usb:Path"] = usb;
            });
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the app's receiver to stream");
            var based = await host.Factory.Services.GetRequiredService<BaseBackup>().TakeAsync(CancellationToken.None);
            await harness.Database.ExecuteAsAdminAsync("CREATE TABLE notes (id int); INSERT INTO notes VALUES (1)");
            await TestPostgres.ExecuteAsync(harness.Database.AdminConnectionString, "postgres",
                "SELECT pg_switch_wal()");
            var layout = new PitrLayout(harness.BackupDirectory);
            string? segment = null;
            await PitrScenario.WaitForAsync(() => Task.FromResult((segment = WalSegment.List(layout.Wal,
                based.WalSegmentBytes).LastOrDefault(s => !s.Partial)?.Path) is not null),
                "the receiver to complete a segment");

            var record = Path.Combine(usb, "pitr", "base", based.Name + ".json");
            var wal = Path.Combine(usb, "pitr", "wal", Path.GetFileName(segment!) + ".age");
            await PitrScenario.WaitForAsync(() => Task.FromResult(File.Exists(record) && File.Exists(wal)),
                "the worker to send the base backup and the completed segment", seconds: 150);

            var plain = Path.Combine(keys.Path, "segment");
            var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", plain, wal);
            Assert.True(exit == 0, output);
            Assert.Equal(await File.ReadAllBytesAsync(segment!), await File.ReadAllBytesAsync(plain));
            Assert.True(File.Exists(Path.Combine(usb, "pitr", "base", based.Name + ".tar.gz.age")));
        }
        finally { await PitrScenario.DropSlotAsync(slot); }
    }
}
