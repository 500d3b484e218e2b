using BackupManager.Core;
using BackupManager.Core.Pitr;
using Npgsql;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// A test's own point-in-time set-up: an engine over its own database and folders (the engine logs in as the
/// superuser, which has REPLICATION), its WAL receiver running in this process, and a slot named after its backup
/// folder. Disposal stops the receiver, drops the slot and the rest.
/// </summary>
public sealed class PitrScenario : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _receiving;

    private PitrScenario(EngineHarness harness) => Harness = harness;

    public EngineHarness Harness { get; }
    public PitrLayout Layout => Harness.Get<PitrSource>().Layout;
    public PointInTimeRecovery Recovery => Harness.Get<PointInTimeRecovery>();

    public static async Task<PitrScenario> StartAsync(Action<PitrOptions>? configure = null,
        Action<BackupOptions>? configureBackup = null)
    {
        var scenario = new PitrScenario(await EngineHarness.CreateAsync(o =>
        {
            o.Pitr.Enabled = true;
            configure?.Invoke(o.Pitr);
            configureBackup?.Invoke(o);
        }));
        await scenario.Harness.SeedAsync();
        scenario._receiving = scenario.Harness.Get<WalReceiver>().RunAsync(scenario._stop.Token);
        await WaitForAsync(async () => await SlotActiveAsync(scenario.Layout.SlotName), "the receiver to stream");
        return scenario;
    }

    /// <summary>Stops this scenario's receiver and waits until the server sees the slot released.</summary>
    public async Task StopReceiverAsync()
    {
        await _stop.CancelAsync();
        if (_receiving is not null) await _receiving;
        await WaitForAsync(async () => !await SlotActiveAsync(Layout.SlotName), "the slot to be released");
    }

    public Task<BaseBackupRecord> BaseBackupAsync() => Harness.Get<BaseBackup>().TakeAsync(CancellationToken.None);

    /// <summary>Restores to <paramref name="target"/> through the engine's one entry point, as every front end
    /// does.</summary>
    public async Task<(PointInTimeArchive Archive, RestoreResult Result)> RestoreToAsync(DateTimeOffset target,
        BackupScope scope)
    {
        var (archive, result) = await Recovery.RestoreAsync(target, scope, "test@clinic", null,
            CancellationToken.None);
        return (archive, result);
    }

    /// <summary>Writes row 1 of a new table <c>notes</c>, then row 2 two seconds later, and returns the second between
    /// them: a restore to it must bring back row 1 only.</summary>
    public async Task<DateTimeOffset> WriteRowsAroundATargetAsync()
    {
        await Harness.Database.ExecuteAsync("CREATE TABLE notes (id int); INSERT INTO notes VALUES (1)");
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await Harness.Database.ExecuteAsync("INSERT INTO notes VALUES (2)");
        return target;
    }

    /// <summary>Writes WAL and closes <paramref name="segments"/> segments, then waits until the receiver has them
    /// complete on disk.</summary>
    public async Task SwitchSegmentsAsync(int segments)
    {
        var target = "";
        for (var i = 0; i < segments; i++)
        {
            await Harness.Database.ExecuteAsAdminAsync(
                "CREATE TABLE IF NOT EXISTS wal_filler (n int); INSERT INTO wal_filler VALUES (1);");
            // The switch's own answer names the segment it closed; the current position would name the next one as
            // soon as any other test writes WAL on this shared cluster, and that one may not close for a long time.
            target = (await AdminScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())"))!;
        }
        // Wait until it is complete on disk (renamed from .partial), not merely begun.
        await WaitForAsync(() => Task.FromResult(Directory.EnumerateFiles(Layout.Wal)
            .Any(f => !f.EndsWith(".partial", StringComparison.Ordinal)
                && string.CompareOrdinal(Path.GetFileName(f), target) >= 0)), "the receiver to complete " + target);
    }

    public static async Task<bool> SlotActiveAsync(string slot) =>
        await AdminScalarAsync<bool?>($"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'") == true;

    public static async Task<T?> AdminScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.With(TestPostgres.AdminConnectionString,
            "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    public static async Task WaitForAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    /// <summary>Drops the slot once no receiver holds it.</summary>
    public static async Task DropSlotAsync(string slot)
    {
        await WaitForAsync(async () => !await SlotActiveAsync(slot), "the slot to be released");
        await TestPostgres.ExecuteAsync(TestPostgres.AdminConnectionString, "postgres",
            $"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{slot}'");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_receiving is not null) await _receiving;
        await DropSlotAsync(Layout.SlotName);
        await Harness.DisposeAsync();
        _stop.Dispose();
    }
}
