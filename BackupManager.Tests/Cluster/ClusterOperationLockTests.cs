using BackupManager.Core;
using BackupManager.Core.Cluster;
using BackupManager.Core.Locking;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Cluster mode's operation lock: two instances whose backup folders do not share file locks (as on a shared mount
/// where flock does not reach the other host; here, two different folders) still exclude each other through the
/// PostgreSQL advisory lock in their one database.
/// </summary>
public sealed class ClusterOperationLockTests
{
    [Fact]
    public async Task A_second_instance_is_refused_busy_while_the_first_holds_and_may_take_the_lock_after()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        using var folders = new TestFolder();
        var a = new BackupOperationLock(folders.Sub("host-a"), ClusterTestDatabase.Options(database, "host-a"));
        var b = new BackupOperationLock(folders.Sub("host-b"), ClusterTestDatabase.Options(database, "host-b"));

        var lease = await Task.Run(() => a.Acquire("create", "web:alice"));
        Assert.Null(b.TryAcquire("restore", "web:bob"));
        Assert.Equal(BackupErrorKind.Busy, Assert.Throws<BackupException>(() => b.Acquire("restore", "web:bob")).Kind);
        Assert.True(b.SeemsBusy()); // the other host's operation, seen through pg_locks
        Assert.Equal("host-a", a.CurrentHolder()?.Instance);
        Assert.Contains("(create by web:alice on host-a, started", a.BusyError().Message);
        Assert.Single(await ClusterTestDatabase.HoldersAsync(database, ClusterLockKeys.OperationLock));

        lease.Dispose();
        Assert.False(b.SeemsBusy());
        using var taken = b.TryAcquire("restore", "web:bob");
        Assert.NotNull(taken);
        Assert.Null(a.TryAcquire("create", "web:alice"));
    }

    [Fact]
    public async Task A_holder_whose_session_dies_frees_the_lock_for_the_other_instance()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        using var folders = new TestFolder();
        var a = new BackupOperationLock(folders.Sub("host-a"), ClusterTestDatabase.Options(database, "host-a"));
        var b = new BackupOperationLock(folders.Sub("host-b"), ClusterTestDatabase.Options(database, "host-b"));
        using var lease = a.Acquire("restore", "web:alice");
        Assert.Null(b.TryAcquire("create", "schedule"));

        // What the server does when the holder's process or host dies: the session ends, its locks with it.
        await ClusterTestDatabase.TerminateHoldersAsync(database, ClusterLockKeys.OperationLock);

        BackupOperationLock.Lease? taken = null;
        Assert.True(await ClusterTestDatabase.EventuallyAsync(() => (taken ??= b.TryAcquire("create", "schedule"))
            is not null, TimeSpan.FromSeconds(10)));
        taken!.Dispose();
    }

    [Fact]
    public async Task WaitAsync_on_another_instance_queues_until_the_holder_is_done()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        using var folders = new TestFolder();
        var a = new BackupOperationLock(folders.Sub("host-a"), ClusterTestDatabase.Options(database, "host-a"));
        var b = new BackupOperationLock(folders.Sub("host-b"), ClusterTestDatabase.Options(database, "host-b"));
        var lease = a.Acquire("restore", "web:alice");

        var waiting = b.WaitAsync("create", "schedule", TimeSpan.FromSeconds(60), CancellationToken.None);
        await Task.Delay(2500);
        Assert.False(waiting.IsCompleted);
        lease.Dispose();
        using var queued = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(queued.IsHeld);
        Assert.Single(await ClusterTestDatabase.HoldersAsync(database, ClusterLockKeys.OperationLock));
    }

    [Fact]
    public async Task An_unreachable_database_refuses_the_operation_and_leaves_nothing_held()
    {
        using var folders = new TestFolder();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // a port nothing listens on
        var options = new ClusterOptions
        {
            Enabled = true, InstanceName = "host-a",
            ConnectionString = $"Host=127.0.0.1;Port={port};Database=clinic_accounts;Username=clinic;Password=x",
        };
        var locking = new BackupOperationLock(folders.Sub("backups"), options);

        var refused = await Task.Run(() => Assert.Throws<BackupException>(() => locking.TryAcquire("create", "a")));

        Assert.Equal(BackupErrorKind.Database, refused.Kind);
        Assert.Contains("Backup__Cluster__Enabled=true", refused.Message);
        Assert.Contains($"clinic_accounts on 127.0.0.1:{port}", refused.Message);
        Assert.Contains("Check that PostgreSQL runs", refused.Message);
        Assert.DoesNotContain("Password", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(locking.CurrentHolder());
        using var single = new BackupOperationLock(folders.Sub("backups")).TryAcquire("create", "a");
        Assert.NotNull(single); // the file lock was let go too
    }

    [Fact]
    public async Task The_lock_sessions_ask_the_server_to_notice_a_dead_host_within_the_handover_time()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var options = ClusterTestDatabase.Options(database, "host-a");
        await using var session = ClusterConnection.Open(options, "test");
        var settings = new List<string>();
        foreach (var name in new[] { "tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count" })
        {
            await using var show = new NpgsqlCommand($"SHOW {name}", session);
            settings.Add((string)(await show.ExecuteScalarAsync())!);
        }
        Assert.Equal(["10", "3", "3"], settings);
        Assert.True(10 + 3 * 3 < options.HandoverSeconds);
    }
}
