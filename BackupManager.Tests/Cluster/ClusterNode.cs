using BackupManager.Core;
using BackupManager.Core.Audit;
using BackupManager.Core.Cluster;
using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// One app server of a test cluster without the web host: the real job runner (over its own folder and a substituted
/// engine whose create reports a phase and then waits for <see cref="FinishCreate"/>) sharing its jobs through the
/// real cluster table in <paramref name="connectionString"/>'s database. Heartbeats only when the test says so.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly TestFolder _folder = new();
    private TaskCompletionSource<BackupInfo> _create = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClusterNode(string connectionString, string name, int handoverSeconds = 20)
    {
        Table = new ClusterJobTable(new ClusterOptions
        {
            Enabled = true, ConnectionString = connectionString, InstanceName = name,
            HandoverSeconds = handoverSeconds,
        });
        Share = new DatabaseJobStateShare(Table, NullLogger<DatabaseJobStateShare>.Instance);
        var directory = _folder.Sub("backups");
        Engine.CreateAsync(Arg.Any<CreateBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>()).Returns(call =>
        {
            call.Arg<IProgress<BackupProgress>?>()?.Report(new("create", "Dumping the database", 0.42));
            Started.TrySetResult();
            return _create.Task;
        });
        var options = Options.Create(new BackupOptions { Directory = directory });
        Jobs = new BackupJobRunner(Engine, new OffsiteService(options, new Core.Storage.BackupFolderStore(directory),
            Engine, TimeProvider.System, NullLogger<OffsiteService>.Instance), new BackupOperationLock(directory),
            new AuditLog(directory, TimeProvider.System), TimeProvider.System, NullLogger<BackupJobRunner>.Instance,
            share: Share);
    }

    /// <summary>Two nodes "a" and "b" over one database, the cluster's tables installed, both heartbeating once.
    /// </summary>
    public static async Task<(ClusterNode A, ClusterNode B)> PairAsync(string connectionString)
    {
        var a = new ClusterNode(connectionString, "a");
        var b = new ClusterNode(connectionString, "b");
        await a.Table.InstallAsync(CancellationToken.None);
        await a.Table.HeartbeatAsync(CancellationToken.None);
        await b.Table.HeartbeatAsync(CancellationToken.None);
        return (a, b);
    }

    public ClusterJobTable Table { get; }
    public DatabaseJobStateShare Share { get; }
    public BackupJobRunner Jobs { get; }
    public IBackupService Engine { get; } = Substitute.For<IBackupService>();
    /// <summary>Set when a create reached the engine (it then waits for <see cref="FinishCreate"/>).</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void FinishCreate(string filename) =>
        _create.SetResult(new BackupInfo(filename, 1000, DateTime.UtcNow, BackupTrigger.Manual,
            [BackupContents.Database], "admin@clinic.test", false, true, 0));

    public async ValueTask DisposeAsync()
    {
        _create.TrySetCanceled();
        // A create left waiting ends now: its audit record must land before the folder goes, or it re-creates it.
        await JobSettling.WaitAsync(Jobs, TimeSpan.FromSeconds(10));
        await Share.DisposeAsync();
        await Table.DisposeAsync();
        _folder.Dispose();
    }
}
