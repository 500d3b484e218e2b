using BackupManager.Core.Cluster;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Cluster;
using Microsoft.Extensions.Logging.Abstractions;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Singletons by leadership: of two instances on one database exactly one leads each role; when the leader's session
/// dies another takes over within the hand-over time, and a stopping leader lets go at once. Cluster off: every role
/// is led and no database is touched.
/// </summary>
public sealed class ClusterLeadershipTests
{
    private static readonly ClusterRole[] Roles = Enum.GetValues<ClusterRole>();

    internal static ClusterLeadership Leadership(ClusterOptions options) =>
        new(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System,
            NullLogger<ClusterLeadership>.Instance);

    [Fact]
    public async Task Exactly_one_instance_leads_and_a_dead_leaders_roles_pass_to_the_other_within_the_handover_time()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var options = ClusterTestDatabase.Options(database, "host-a", heartbeatSeconds: 2);
        using var a = Leadership(options);
        using var b = Leadership(ClusterTestDatabase.Options(database, "host-b", heartbeatSeconds: 2));
        await a.StartAsync(CancellationToken.None);
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => Roles.All(a.IsLeader), TimeSpan.FromSeconds(10)));
        await b.StartAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(5)); // b has tried a few times
        Assert.All(Roles, role => Assert.True(a.IsLeader(role) && !b.IsLeader(role)));

        // The leader's process or host dies: the server ends its session, and its advisory locks go with it.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await ClusterTestDatabase.TerminateHoldersAsync(database, ClusterLockKeys.Leadership(ClusterRole.CatchUp));
        // Ending the session at once is quicker than any server notices a dead host: a may still claim its roles
        // until its own beat fails, but never longer than its leadership's validity.
        var bothLedAfterValidity = false;
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() =>
        {
            bothLedAfterValidity |= clock.Elapsed > a.Validity
                && Roles.Any(role => a.IsLeader(role) && b.IsLeader(role));
            return Roles.All(b.IsLeader);
        }, TimeSpan.FromSeconds(options.HandoverSeconds)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(options.HandoverSeconds), $"took {clock.Elapsed}");
        await Task.Delay(a.Validity);
        Assert.False(bothLedAfterValidity || Roles.Any(role => a.IsLeader(role) && b.IsLeader(role)));
        await Task.Delay(TimeSpan.FromSeconds(5)); // a reconnects and tries again, and finds the roles taken
        Assert.All(Roles, role => Assert.False(a.IsLeader(role)));

        // A leader that stops lets go: the instance that kept trying takes over.
        await b.StopAsync(CancellationToken.None);
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => Roles.All(a.IsLeader), TimeSpan.FromSeconds(10)));
        Assert.All(Roles, role => Assert.False(b.IsLeader(role)));
        await a.StopAsync(CancellationToken.None);
        Assert.Empty(await ClusterTestDatabase.HoldersAsync(database, ClusterLockKeys.Leadership(ClusterRole.CatchUp)));
    }

    [Fact]
    public async Task Work_run_while_leading_stops_when_leadership_is_lost_and_starts_again_when_it_returns()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        using var a = Leadership(ClusterTestDatabase.Options(database, "host-a", heartbeatSeconds: 3));
        await a.StartAsync(CancellationToken.None);
        int starts = 0, stops = 0;
        using var stopping = new CancellationTokenSource();
        var running = a.WhileLeaderAsync(ClusterRole.WalReceiver, async led =>
        {
            Interlocked.Increment(ref starts);
            try { await Task.Delay(Timeout.InfiniteTimeSpan, led); }
            finally { Interlocked.Increment(ref stops); } // as the WAL receiver stops pg_receivewal
        }, stopping.Token);
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => starts == 1, TimeSpan.FromSeconds(10)));

        // Counted from here: a beat that a loaded machine delays past its validity may also restart the work.
        var (startsBefore, stopsBefore) = (starts, stops);
        await ClusterTestDatabase.TerminateHoldersAsync(database, ClusterLockKeys.Leadership(ClusterRole.WalReceiver));

        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => stops > stopsBefore, TimeSpan.FromSeconds(15)));
        // Nobody else wants the role: the next beat reconnects, leads again, and the work starts again.
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => starts > startsBefore,
            TimeSpan.FromSeconds(15)));
        await stopping.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10)); // the host stopping ends it quietly
        Assert.Equal(starts, stops); // every start of the work was stopped
        await a.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task With_cluster_mode_off_every_role_is_led_without_any_database()
    {
        // A documentation address that routes nowhere: any attempt to use it would hang or fail.
        using var single = Leadership(new ClusterOptions
        {
            Enabled = false, ConnectionString = "Host=192.0.2.1;Port=5432;Database=none;Username=none;Timeout=1",
        });
        await single.StartAsync(CancellationToken.None);
        Assert.All(Roles, role => Assert.True(single.IsLeader(role)));
        var ran = false;
        await single.WhileLeaderAsync(ClusterRole.CatchUp, _ => { ran = true; return Task.CompletedTask; },
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(ran);
        await single.StopAsync(CancellationToken.None);
        Assert.All(Roles, role => Assert.True(single.IsLeader(role)));
    }
}
