using System.Globalization;
using BackupManager.Core;
using BackupManager.Core.Pitr;
using BackupManager.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BackupManager.Tests.Pitr;

/// <summary>The recovery point objective: what the web app's receiver had on disk when the app was killed with
/// kill -9 is what a restore to the newest point brings back.</summary>
public sealed class RecoveryPointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_write_made_five_seconds_before_the_app_is_killed_with_sigkill_survives_a_restore()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.Pitr.Enabled = true);
        await h.SeedAsync();
        var slot = new PitrLayout(h.BackupDirectory).SlotName;
        var env = AppProcess.EnvironmentFor(h, TestPostgres.With(h.Database.AdminConnectionString, h.Database.Name));
        env["Backup__Pitr__Enabled"] = "true";
        env["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        var app = AppProcess.Start(env);
        try
        {
            await PitrScenario.WaitForAsync(() => PitrScenario.SlotActiveAsync(slot), "the web app to stream WAL",
                seconds: 120);
            await h.Get<BaseBackup>().TakeAsync(CancellationToken.None);
            await h.Database.ExecuteAsync("CREATE TABLE visits (id int PRIMARY KEY, at timestamptz NOT NULL)");
            var acknowledged = new List<(int Id, DateTimeOffset At)>();
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (var id = 1; !stop.IsCancellationRequested; id++)
                {
                    await h.Database.ExecuteAsync($"INSERT INTO visits VALUES ({id}, clock_timestamp())");
                    lock (acknowledged) acknowledged.Add((id, DateTimeOffset.UtcNow));
                    await Task.Delay(100);
                }
            });
            int Acknowledged() { lock (acknowledged) return acknowledged.Count; }
            // At least 8 s and 60 acknowledged rows: a loaded machine writes fewer rows a second.
            var writing = System.Diagnostics.Stopwatch.StartNew();
            while ((writing.Elapsed < TimeSpan.FromSeconds(8) || Acknowledged() < 60)
                && writing.Elapsed < TimeSpan.FromSeconds(60) && !writer.IsCompleted) await Task.Delay(100);
            var killedAt = DateTimeOffset.UtcNow;
            app.Kill(); // SIGKILL: no shutdown code runs; pg_receivewal dies with it
            await app.WaitForExitAsync();
            await Task.Delay(1000); // the clinic goes on writing for a moment: those rows are not ours to have
            await stop.CancelAsync();
            await writer;
            await PitrScenario.WaitForAsync(async () => !await PitrScenario.SlotActiveAsync(slot),
                "the slot to be released");

            var status = await h.Get<PitrStatusReader>().ReadAsync(CancellationToken.None);
            var (archive, result) = await h.Get<PointInTimeRecovery>().RestoreAsync(status.WindowTo!.Value,
                BackupScope.DatabaseOnly, "test@clinic", null, CancellationToken.None);

            Assert.True(result.RestoredDatabase);
            var kept = (await h.Database.RowsAsync("SELECT id FROM visits ORDER BY id")).Select(int.Parse).ToList();
            Assert.Equal(Enumerable.Range(1, kept.Count), kept); // one consistent point: no row missing in between
            var beforeKill = acknowledged.Where(w => w.At <= killedAt).ToList();
            var lost = beforeKill.Where(w => w.Id > kept.Count).ToList();
            var rpo = lost.Count == 0 ? TimeSpan.Zero : killedAt - lost[0].At;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{beforeKill.Count} rows acknowledged before the kill, {kept.Count} restored from {archive.Filename};"
                + $" lost {lost.Count}: RPO {rpo.TotalSeconds:0.00} s"));
            Assert.All(beforeKill.Where(w => w.At <= killedAt.AddSeconds(-5)), w => Assert.Contains(w.Id, kept));
            Assert.True(rpo <= TimeSpan.FromSeconds(5), $"RPO {rpo}");
            Assert.True(kept.Count >= 40, $"only {kept.Count} rows came back");
        }
        finally
        {
            if (!app.HasExited) app.Kill(entireProcessTree: true);
            app.Dispose();
            await PitrScenario.DropSlotAsync(slot);
        }
    }
}
