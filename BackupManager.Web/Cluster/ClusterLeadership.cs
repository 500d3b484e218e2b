using BackupManager.Core;
using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BackupManager.Web.Cluster;

/// <summary>
/// Which singleton roles (<see cref="ClusterRole"/>) this instance leads. In cluster mode it keeps one dedicated
/// session to the accounts database and every <see cref="ClusterOptions.HeartbeatSeconds"/> tries
/// pg_try_advisory_lock on each role it does not hold yet; a round trip that fails drops every role at once and the
/// next beat reconnects and tries again. A role counts as led only while the last good beat is recent
/// (<see cref="Validity"/>), shorter than the time the server needs to drop a dead host's session, so two instances
/// never both believe they lead. Stopping releases the roles. Cluster off: every role is led, no database is used.
/// </summary>
public sealed class ClusterLeadership(IOptions<ClusterOptions> options, TimeProvider time,
    ILogger<ClusterLeadership> logger) : BackgroundService
{
    private readonly ClusterOptions _options = options.Value;
    private readonly Lock _gate = new();
    private NpgsqlConnection? _session;
    private HashSet<ClusterRole> _held = [];
    private DateTimeOffset _lastBeat = DateTimeOffset.MinValue;
    private bool _reported;

    public bool Enabled => _options.Enabled;

    private TimeSpan Heartbeat => TimeSpan.FromSeconds(Math.Max(1, _options.HeartbeatSeconds));

    /// <summary>How long a good beat keeps roles led: two beats, at most half the hand-over time.</summary>
    internal TimeSpan Validity => TimeSpan.FromSeconds(
        Math.Min(2 * Math.Max(1, _options.HeartbeatSeconds), Math.Max(2, _options.HandoverSeconds / 2)));

    public bool IsLeader(ClusterRole role)
    {
        if (!_options.Enabled) return true;
        lock (_gate) return _held.Contains(role) && time.GetUtcNow() - _lastBeat < Validity;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            await BeatAsync(stoppingToken).ConfigureAwait(false);
            try { await Task.Delay(Heartbeat, time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One heartbeat: (re)connects when needed and tries every role not held yet.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            _session ??= await ClusterConnection.OpenAsync(_options, "leadership", cancellationToken)
                .ConfigureAwait(false);
            var roles = Enum.GetValues<ClusterRole>();
            HashSet<ClusterRole> held;
            lock (_gate) held = [.. _held];
            await using var command = new NpgsqlCommand(
                "SELECT k FROM unnest(@keys) k WHERE CASE WHEN k = ANY(@held) THEN true "
                + "ELSE pg_try_advisory_lock(k) END", _session);
            command.Parameters.AddWithValue("keys", roles.Select(ClusterLockKeys.Leadership).ToArray());
            command.Parameters.AddWithValue("held", held.Select(ClusterLockKeys.Leadership).ToArray());
            var now = new HashSet<ClusterRole>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    now.Add((ClusterRole)(reader.GetInt64(0) - ClusterLockKeys.LeadershipBase));
            foreach (var role in now.Except(held))
                logger.LogInformation("{Instance} now leads {Role}", _options.ResolvedInstanceName, role);
            lock (_gate) (_held, _lastBeat) = (now, time.GetUtcNow());
            _reported = false;
        }
        catch (Exception e) when (e is BackupException or NpgsqlException or TimeoutException
            or InvalidOperationException || (e is OperationCanceledException
            && !cancellationToken.IsCancellationRequested))
        {
            await DropAsync().ConfigureAwait(false);
            if (!_reported) logger.LogWarning(e, "{Instance} lost its cluster session and leads nothing until it is "
                + "back; it tries again every {Seconds} s", _options.ResolvedInstanceName, Heartbeat.TotalSeconds);
            _reported = true;
        }
    }

    /// <summary>Runs <paramref name="work"/> only while this instance leads <paramref name="role"/>: it starts when
    /// leadership comes, is cancelled when it goes, and starts again when it comes back. Returns when the work ends
    /// on its own or <paramref name="stoppingToken"/> fires. Cluster off: simply runs the work.</summary>
    public async Task WhileLeaderAsync(ClusterRole role, Func<CancellationToken, Task> work,
        CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            await work(stoppingToken).ConfigureAwait(false);
            return;
        }
        var poll = TimeSpan.FromMilliseconds(Math.Min(1000, Heartbeat.TotalMilliseconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!IsLeader(role))
            {
                await Task.Delay(poll, time, stoppingToken).ConfigureAwait(false);
                continue;
            }
            using var led = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var running = work(led.Token);
            while (!running.IsCompleted && IsLeader(role))
                await Task.WhenAny(running, Task.Delay(poll, time, stoppingToken)).ConfigureAwait(false);
            if (running.IsCompleted && !stoppingToken.IsCancellationRequested && IsLeader(role))
            {
                await running.ConfigureAwait(false);
                return;
            }
            await led.CancelAsync().ConfigureAwait(false);
            try { await running.ConfigureAwait(false); }
            catch (OperationCanceledException) { /* stopped because leadership went */ }
            if (!stoppingToken.IsCancellationRequested)
                logger.LogWarning("{Instance} no longer leads {Role}; its work stopped here",
                    _options.ResolvedInstanceName, role);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await DropAsync().ConfigureAwait(false);
    }

    public override void Dispose()
    {
        DropAsync().GetAwaiter().GetResult();
        base.Dispose();
    }

    /// <summary>Forgets every role and ends the session (which releases its locks; the unlock is explicit so a
    /// successor need not wait for the server to clean up).</summary>
    private async Task DropAsync()
    {
        lock (_gate) _held = [];
        if (_session is not { } session) return;
        _session = null;
        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", session);
            await unlock.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException) { }
        await session.DisposeAsync().ConfigureAwait(false);
    }
}
