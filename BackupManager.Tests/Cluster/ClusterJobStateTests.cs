using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Jobs;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Endpoints;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Several servers: job state lives in the accounts database (schema backupmanager_cluster), installed by the
/// database's non-superuser owner; a job one instance runs reads the same on another; a job whose instance stopped
/// sending heartbeats is reported, and stored, as failed and interrupted.
/// </summary>
public sealed class ClusterJobStateTests
{
    private static readonly Actor Admin = new("admin@clinic.test", "10.0.0.1");
    private static readonly JsonSerializerOptions Api = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    [Fact]
    public async Task The_schema_installs_as_the_owner_idempotently_and_when_instances_start_together()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var nodes = Enumerable.Range(0, 4).Select(i => new ClusterNode(database.ConnectionString, $"n{i}")).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(n => n.Table.InstallAsync(CancellationToken.None)));
            await nodes[0].Table.InstallAsync(CancellationToken.None); // again, over what exists
            Assert.Equal(["data_protection_keys", "instances", "jobs"], await database.RowsAsync(
                "SELECT table_name FROM information_schema.tables "
                + "WHERE table_schema = 'backupmanager_cluster' ORDER BY 1"));
            Assert.Equal([database.OwnerRole!], await database.RowsAsync(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'backupmanager_cluster'"));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_job_started_on_one_instance_reads_the_same_on_another_while_it_runs_and_once_done()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var (first, second) = await ClusterNode.PairAsync(database.ConnectionString);
        await using var a = first;
        await using var b = second;

        var started = a.Jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual, Admin);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Null(b.Jobs.Find(started.Id)); // not in B's memory: read from the table
        await a.Share.FlushAsync();
        var running = await b.Jobs.FindAsync(started.Id);
        Assert.NotNull(running);
        Assert.Equal(BackupJobStatus.Running, running.Status);
        Assert.Equal("Dumping the database", running.Progress?.Phase);
        Assert.Equal(Json(a.Jobs.Find(started.Id)!), Json(running));

        a.FinishCreate("backup-2026-12-06_10-00-00.zip");
        var done = await a.Jobs.WhenFinishedAsync(started.Id).WaitAsync(TimeSpan.FromSeconds(20));
        var seen = await Eventually(() => b.Jobs.FindAsync(started.Id), j => j?.IsFinished == true);
        Assert.Equal(BackupJobStatus.Succeeded, seen!.Status);
        Assert.Equal("backup-2026-12-06_10-00-00.zip", seen.Filename);
        Assert.Equal(Json(done), Json(seen));
        Assert.Equal(["a|succeeded|backup-2026-12-06_10-00-00.zip"], await database.RowsAsync(
            "SELECT instance, status, backup FROM backupmanager_cluster.jobs"));
    }

    [Fact]
    public async Task A_running_job_whose_instance_stopped_its_heartbeat_is_reported_and_stored_as_interrupted()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        // 5 s of handover: the job must read as running first, however slowly a loaded machine starts it.
        await using var a = new ClusterNode(database.ConnectionString, "a", handoverSeconds: 5);
        await using var b = new ClusterNode(database.ConnectionString, "b", handoverSeconds: 5);
        await a.Table.InstallAsync(CancellationToken.None);
        var started = a.Jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual, Admin);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await a.Table.HeartbeatAsync(CancellationToken.None);
        await a.Share.FlushAsync();
        Assert.Equal(BackupJobStatus.Running, (await b.Jobs.FindAsync(started.Id))?.Status);
        // B's watcher sees it running, then its end.
        Assert.Equal([started.Id], (await b.Share.OthersAsync([], CancellationToken.None)).Select(j => j.Id));

        // A's heartbeat stops (its last one was written as the job began).
        var interrupted = await Eventually(() => b.Jobs.FindAsync(started.Id), j => j?.IsFinished == true);
        Assert.Equal(BackupJobStatus.Failed, interrupted!.Status);
        Assert.Equal(BackupErrorKind.Interrupted, interrupted.ErrorKind);
        Assert.Contains("The app server a that ran this job stopped", interrupted.Error);
        Assert.Contains("start the job again", interrupted.Error);
        Assert.NotNull(interrupted.FinishedAt);
        Assert.Equal("Dumping the database", interrupted.Progress?.Phase); // where it stopped
        Assert.Equal("interrupted", JobDto.From(interrupted).ErrorKind);
        Assert.Equal(["failed|interrupted|True"], await database.RowsAsync(
            "SELECT status, error_kind, finished IS NOT NULL FROM backupmanager_cluster.jobs"));
        var watched = await b.Share.OthersAsync([started.Id], CancellationToken.None);
        Assert.Equal(BackupErrorKind.Interrupted, Assert.Single(watched).ErrorKind);
        Assert.Empty(await b.Share.OthersAsync([], CancellationToken.None)); // no longer running anywhere
    }

    [Fact]
    public async Task A_job_finishes_as_usual_when_its_state_cannot_be_written()
    {
        var nowhere = TestPostgres.With(TestPostgres.AdminConnectionString,
            "bm_t_missing_" + Guid.NewGuid().ToString("N")[..12]);
        await using var a = new ClusterNode(nowhere, "a");
        var started = a.Jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual, Admin);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        a.FinishCreate("backup-2026-12-06_10-00-00.zip");
        var done = await a.Jobs.WhenFinishedAsync(started.Id).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(BackupJobStatus.Succeeded, done.Status);
        Assert.Equal(done, await a.Jobs.FindAsync(started.Id)); // this instance's own jobs need no table
    }

    private static string Json(BackupJob job) => JsonSerializer.Serialize(JobDto.From(job), Api);

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(200);
        }
    }
}
