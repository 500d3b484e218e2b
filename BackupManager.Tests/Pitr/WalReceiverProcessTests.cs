using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Pitr;

/// <summary>The receiver's pg_receivewal never outlives the app, even when the app is killed with kill -9.</summary>
public sealed class WalReceiverProcessTests
{
    [Fact]
    public async Task Pg_receivewal_dies_with_app_receive_wal_when_that_is_killed_with_sigkill()
    {
        await using var h = await EngineHarness.CreateAsync();
        var slot = new PitrLayout(h.BackupDirectory).SlotName;
        var environment = AppProcess.EnvironmentFor(h,
            TestPostgres.With(h.Database.AdminConnectionString, h.Database.Name));
        using var app = AppProcess.Start(environment, "app:receive-wal");
        try
        {
            await PitrScenario.WaitForAsync(async () => await PitrScenario.SlotActiveAsync(slot),
                "app:receive-wal to stream", seconds: 60);
            Assert.NotEmpty(ReceiversOf(slot));

            app.Kill(); // SIGKILL: no shutdown code runs
            await app.WaitForExitAsync();

            await PitrScenario.WaitForAsync(() => Task.FromResult(ReceiversOf(slot).Count == 0),
                "pg_receivewal to die with its parent", seconds: 10);
            await PitrScenario.WaitForAsync(async () => !await PitrScenario.SlotActiveAsync(slot),
                "the slot to be released");
            Assert.True(Directory.Exists(Path.Combine(h.BackupDirectory, "pitr", "wal")));
        }
        finally
        {
            if (!app.HasExited) app.Kill(entireProcessTree: true);
            foreach (var pid in ReceiversOf(slot)) System.Diagnostics.Process.GetProcessById(pid).Kill();
            await PitrScenario.DropSlotAsync(slot);
        }
    }

    /// <summary>pg_receivewal processes streaming from <paramref name="slot"/>.</summary>
    private static List<int> ReceiversOf(string slot) => ProcessTable.Matching(line =>
        line.Contains("pg_receivewal", StringComparison.Ordinal) && line.Contains(slot, StringComparison.Ordinal)
        && !line.Contains("--create-slot", StringComparison.Ordinal));
}
