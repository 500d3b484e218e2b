using System.Diagnostics;
using BackupManager.Core.Database;
using BackupManager.Core.IO;
using BackupManager.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The low-priority read throttle follows the database server's load: limited while others' transactions run,
/// unlimited while the server is quiet, the fixed rate when it cannot tell. Checked by mode, not by tight durations
/// (a loaded 2-core machine); the times each switch took are written to the test output.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LoadFollowingThrottleTests(ITestOutputHelper output)
{
    private const long OneMiB = 1 << 20;

    [Fact]
    public async Task The_throttle_follows_its_signal_and_keeps_the_fixed_rate_once_the_signal_fails()
    {
        var signal = new FakeSignal();
        var log = new CapturedLog("throttle");
        var throttle = new ReadThrottle(OneMiB, signal, log.CreateLogger("throttle"), TimeSpan.FromMilliseconds(20));
        // Busy until the signal says otherwise: a mebibyte costs about a second.
        Assert.Equal(ReadThrottleMode.Busy, throttle.Mode);
        Assert.True(throttle.Take(OneMiB) > TimeSpan.FromSeconds(0.5));

        signal.Busy = false;
        await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Quiet, TimeSpan.FromSeconds(10), "quiet");
        Assert.Equal(TimeSpan.Zero, throttle.Take(1000 * OneMiB));
        await Task.Delay(3000);
        signal.Busy = true;
        await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Busy, TimeSpan.FromSeconds(10), "busy");
        // The quiet stretch left no credit: 4 MiB cost about 4 s, not 4 less the 3 s of quiet.
        var wait = throttle.Take(4 * OneMiB);
        Assert.True(wait > TimeSpan.FromSeconds(2.5) && wait <= TimeSpan.FromSeconds(4), $"waits {wait}");
        Assert.Equal(2, throttle.Switches);

        signal.Failure = new InvalidOperationException("permission denied for the probe");
        await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Fixed, TimeSpan.FromSeconds(10), "fixed");
        signal.Busy = false;
        var asked = signal.Asked;
        await Task.Delay(200);
        Assert.Equal(asked, signal.Asked); // never asked again
        Assert.Equal(ReadThrottleMode.Fixed, throttle.Mode);
        Assert.True(throttle.Take(OneMiB) > TimeSpan.Zero);
        var warning = Assert.Single(log.Messages);
        Assert.Contains("permission denied for the probe", warning);
        Assert.Contains("fixed rate", warning);

        await throttle.DisposeAsync();
        Assert.True(signal.Disposed);
    }

    [Fact]
    public async Task A_probe_that_cannot_connect_leaves_the_throttle_at_the_fixed_rate()
    {
        var log = new CapturedLog("throttle");
        var target = new PostgresTarget("Host=127.0.0.1;Port=1;Database=nowhere;Username=nobody;Timeout=2");
        await using var throttle = new ReadThrottle(OneMiB, new ServerActivityProbe(target, 20),
            log.CreateLogger("throttle"));
        await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Fixed, TimeSpan.FromSeconds(30), "fixed");
        Assert.Contains("127.0.0.1:1", Assert.Single(log.Messages));
    }

    [Fact]
    public async Task The_probe_sees_others_transactions_within_seconds_and_the_quiet_after_them()
    {
        // The documented deployment: the probe logs in as the database's owner, not a superuser.
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var probe = new ServerActivityProbe(new PostgresTarget(database.ConnectionString), BusyAbove);
        var log = new CapturedLog("throttle");
        await using var throttle = new ReadThrottle(OneMiB, probe, log.CreateLogger("throttle"));
        // Other tests may run on this server: quiet here means under this test's threshold.
        var quiet = await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Quiet, TimeSpan.FromSeconds(60),
            "quiet at first", () => probe.OthersPerSecond);
        output.WriteLine($"quiet after {quiet.TotalSeconds:F2} s ({probe.OthersPerSecond:F0} xact/s)");
        Assert.Equal(TimeSpan.Zero, throttle.Take(1000 * OneMiB));

        var load = await Load.StartAsync(database.ConnectionString, clients: 2);
        var busy = await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Busy, TimeSpan.FromSeconds(20),
            "busy under load", () => probe.OthersPerSecond);
        output.WriteLine($"busy {busy.TotalSeconds:F2} s after the load began ({probe.OthersPerSecond:F0} xact/s)");
        Assert.True(throttle.Take(OneMiB) > TimeSpan.FromSeconds(0.5));
        // It stays busy while the load runs.
        for (var i = 0; i < 8; i++, await Task.Delay(250))
            Assert.True(throttle.Mode == ReadThrottleMode.Busy, $"quiet under load ({probe.OthersPerSecond} xact/s)");

        var transactions = await load.StopAsync();
        output.WriteLine($"the load ran {transactions} transactions");
        var again = await WaitForAsync(() => throttle.Mode == ReadThrottleMode.Quiet, TimeSpan.FromSeconds(60),
            "quiet after the load", () => probe.OthersPerSecond);
        output.WriteLine($"quiet {again.TotalSeconds:F2} s after the load ended ({probe.OthersPerSecond:F0} xact/s)");
        Assert.Equal(TimeSpan.Zero, throttle.Take(1000 * OneMiB));
        Assert.Empty(log.Messages);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_busy_threshold_that_is_not_a_positive_number_stops_the_start_naming_it(double threshold)
    {
        var options = new Core.BackupOptions
        {
            Directory = "/var/backups/clinic",
            LowPriorityBusyTransactionsPerSecond = threshold,
        };
        var failure = Assert.Single(new Core.BackupOptionsValidator().Validate(null, options).Failures ?? []);
        Assert.Contains("Backup__LowPriorityBusyTransactionsPerSecond", failure);
        options.LowPriorityBusyTransactionsPerSecond = 0.5;
        Assert.True(new Core.BackupOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new Core.BackupOptions().LowPriorityFollowsLoad); // the default follows the load
    }

    /// <summary>Far above what other tests sharing the server do, far below what two clients in a loop do.</summary>
    internal const double BusyAbove = 200;

    internal static async Task<TimeSpan> WaitForAsync(Func<bool> condition, TimeSpan limit, string what,
        Func<object?>? detail = null)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < limit, $"not {what} within {limit.TotalSeconds} s "
                + $"({detail?.Invoke()})");
            await Task.Delay(10);
        }
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Other sessions running short transactions back to back, as the clinic's application would.</summary>
    internal sealed class Load
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _clients = [];
        private long _transactions;

        /// <summary>
        /// Reads one row of a small table per transaction, as pgbench -S does. A transaction that touches no table
        /// (SELECT 1) would not do: PostgreSQL 15 reports a backend's counts only along with some table's.
        /// </summary>
        public static async Task<Load> StartAsync(string connectionString, int clients)
        {
            var load = new Load();
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS load_rows "
                    + "(id int PRIMARY KEY, v int); INSERT INTO load_rows VALUES (1, 1) ON CONFLICT DO NOTHING",
                    connection);
                await create.ExecuteNonQueryAsync();
            }
            for (var i = 0; i < clients; i++) load._clients.Add(Task.Run(() => load.RunAsync(connectionString)));
            return load;
        }

        private async Task RunAsync(string connectionString)
        {
            // Not pooled: closing ends the backend, which reports its last counts as it exits.
            await using var connection = new NpgsqlConnection(
                new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT v FROM load_rows WHERE id = 1", connection);
            while (!_stop.IsCancellationRequested)
            {
                await command.ExecuteScalarAsync();
                Interlocked.Increment(ref _transactions);
            }
        }

        /// <summary>Stops the clients, closes their connections and says how many transactions they ran.</summary>
        public async Task<long> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            _stop.Dispose();
            return Interlocked.Read(ref _transactions);
        }
    }

    private sealed class FakeSignal : ILoadSignal
    {
        private int _asked;
        public volatile bool Busy = true;
        public volatile Exception? Failure;
        public bool Disposed { get; private set; }
        public int Asked => Volatile.Read(ref _asked);

        public ValueTask<bool> IsBusyAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            return Failure is { } failure ? ValueTask.FromException<bool>(failure) : ValueTask.FromResult(Busy);
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
