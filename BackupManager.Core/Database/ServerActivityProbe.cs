using System.Diagnostics;
using BackupManager.Core.IO;
using Npgsql;

namespace BackupManager.Core.Database;

/// <summary>
/// Whether the database server serves others, from the transactions it counts: a connection of its own reads
/// <c>pg_stat_database</c> (every database of the server, readable by any role) at each sample, and the server is busy
/// while others committed or rolled back more than <c>busyTransactionsPerSecond</c> over the last
/// <see cref="Window"/>. Its own sample transactions are subtracted; pg_dump's single transaction counts only when it
/// ends. A backend reports its counts at most once a second (PostgreSQL 15), hence the window; counts it holds back
/// when it goes idle arrive up to 10 s later, which can read as a short busy spell. It reports them only along with
/// some table's, so transactions that read no table (a pool's <c>SELECT 1</c>) go unseen, as they should. Busy until
/// one window has passed.
/// Not thread-safe: one sample at a time, as <see cref="ReadThrottle"/> asks.
/// </summary>
public sealed class ServerActivityProbe(PostgresTarget target, double busyTransactionsPerSecond) : ILoadSignal
{
    /// <summary>Longer than the server's one-second reporting interval, so a steady load is never missed.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1.5);

    private const string Counts = "SELECT datid, xact_commit + xact_rollback FROM pg_stat_database";
    private readonly List<Sample> _samples = [];
    private NpgsqlConnection? _connection;
    private long _own;

    /// <summary>Others' transactions per second over the last window, once known (for the log and tests).</summary>
    public double? OthersPerSecond { get; private set; }

    public async ValueTask<bool> IsBusyAsync(CancellationToken cancellationToken)
    {
        _connection ??= await PgTools.OpenAsync(target, new NpgsqlConnectionStringBuilder(
            target.ConnectionStringFor(target.Database)) { ApplicationName = "BackupManager load probe" }
            .ConnectionString, cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<uint, long>();
        await using (var command = new NpgsqlCommand(Counts, _connection) { CommandTimeout = 10 })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                if (!reader.IsDBNull(0) && !reader.IsDBNull(1))
                    counts[reader.GetFieldValue<uint>(0)] = reader.GetInt64(1);
        _samples.Add(new Sample(Stopwatch.GetTimestamp(), counts, ++_own));
        // Keep the newest sample that is at least a window old: the rate is measured from it.
        while (_samples.Count > 1 && Stopwatch.GetElapsedTime(_samples[1].At) >= Window) _samples.RemoveAt(0);
        var oldest = _samples[0];
        var seconds = Stopwatch.GetElapsedTime(oldest.At).TotalSeconds;
        if (seconds < Window.TotalSeconds) return true;
        // Per database: one that was dropped or reset in between must not hide the others' transactions.
        var transactions = counts.Sum(c => oldest.Counts.TryGetValue(c.Key, out var before)
            ? Math.Max(0, c.Value - before) : 0) - (_own - oldest.Own);
        OthersPerSecond = Math.Max(0, transactions) / seconds;
        return OthersPerSecond > busyTransactionsPerSecond;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed record Sample(long At, Dictionary<uint, long> Counts, long Own);
}
