using BackupManager.Core;
using BackupManager.Core.Audit;
using BackupManager.Core.Drills;
using BackupManager.Core.Jobs;
using BackupManager.Core.Locking;
using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The job runner's new kinds: a drill and a fetch-then-restore hold the operation lock for their whole run, so every
/// other locking job is refused (Busy) meanwhile; a copy takes no operation lock; fetch-then-restore works end to end.
/// </summary>
public sealed class JobRunnerKindsTests
{
    private static readonly Actor Admin = new("admin@clinic.test", "10.0.0.1");

    [Fact]
    public async Task While_a_drill_holds_the_lock_every_other_locking_job_is_refused_as_busy_and_audited()
    {
        using var folder = new TestFolder();
        var directory = folder.Sub("backups");
        var engine = Substitute.For<IBackupService>();
        engine.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        var drilling = new TaskCompletionSource<DrillResult>();
        var drillStarted = new TaskCompletionSource();
        engine.DrillAsync(Arg.Any<DrillRequest>(), Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>())
            .Returns(_ => { drillStarted.TrySetResult(); return drilling.Task; });
        var options = Options.Create(new BackupOptions { Directory = directory });
        options.Value.Destinations["nas"] = TestDestinations.Folder(folder.Sub("nas"));
        var audit = new AuditLog(directory, TimeProvider.System);
        var jobs = new BackupJobRunner(engine, new OffsiteService(options,
            new Core.Storage.BackupFolderStore(directory), engine, TimeProvider.System,
            NullLogger<OffsiteService>.Instance), new BackupOperationLock(directory), audit, TimeProvider.System,
            NullLogger<BackupJobRunner>.Instance);

        var drill = jobs.StartDrill(null, Admin);
        await drillStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(BackupErrorKind.Busy, Assert.Throws<BackupException>(() => jobs.StartDrill(null, Admin)).Kind);
        Assert.Equal(BackupErrorKind.Busy, Assert.Throws<BackupException>(() =>
            jobs.StartCreate(BackupScope.Full, BackupTrigger.Manual, Admin)).Kind);
        Assert.Equal(BackupErrorKind.Busy, Assert.Throws<BackupException>(() =>
            jobs.StartRestore("backup-2026-11-20-01-00-00.zip", BackupScope.Full, Admin)).Kind);
        var identity = Core.Offsite.Age.AgeIdentity.Generate();
        var busy = Assert.Throws<BackupException>(() => jobs.StartFetchRestore("nas", "backup-2026-11-20-01-00-00.zip",
            [identity], BackupScope.Full, Admin));
        Assert.Equal(BackupErrorKind.Busy, busy.Kind);
        Assert.Contains("drill by admin@clinic.test", busy.Message); // names the holder
        Assert.Throws<ObjectDisposedException>(() => identity.ToSecretText()); // a refused job forgets the key
        await engine.DidNotReceive().CreateAsync(Arg.Any<CreateBackupRequest>(), Arg.Any<IProgress<BackupProgress>?>(),
            Arg.Any<CancellationToken>());
        await engine.DidNotReceive().RestoreAsync(Arg.Any<RestoreBackupRequest>(),
            Arg.Any<IProgress<BackupProgress>?>(), Arg.Any<CancellationToken>());

        // A copy takes no operation lock (as the background copier): it runs beside the drill.
        var copy = await jobs.WhenFinishedAsync(jobs.StartCopy("nas", Admin).Id).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(BackupJobStatus.Succeeded, copy.Status);
        Assert.Equal("nas", Assert.Single(copy.Copies!).Destination);

        drilling.SetResult(new DrillResult { Filename = "backup-2026-11-20-01-00-00.zip",
            StartedAt = DateTimeOffset.UtcNow, RequestedBy = Admin.Name, Failures = ["The table t has 1 rows."] });
        var drilled = await jobs.WhenFinishedAsync(drill.Id).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(BackupJobStatus.Failed, drilled.Status); // a drill that did not pass is a failed job
        Assert.Contains("The table t has 1 rows.", drilled.Error);
        var entries = audit.Read();
        Assert.Equal(4, entries.Count(e => e.Outcome == AuditOutcome.Refused));
        Assert.Contains(entries, e => e is { Action: "restore-drill", Outcome: AuditOutcome.Failed });
        Assert.Contains(entries, e => e is { Action: "copy-offsite", Target: "nas", Outcome: AuditOutcome.Succeeded });
        // Free again: the next drill starts.
        drilling = new TaskCompletionSource<DrillResult>();
        var next = jobs.StartDrill(null, Admin);
        Assert.Equal(BackupJobKind.Drill, next.Kind);
        drilling.SetResult(new DrillResult { Filename = "-", StartedAt = DateTimeOffset.UtcNow, RequestedBy = "x" });
        // Its audit record lands before the folder goes (a late one re-created the folder).
        await jobs.WhenFinishedAsync(next.Id).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Fetch_then_restore_brings_a_backup_back_from_a_destination_and_restores_it_as_one_job()
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Destinations["nas"] = TestDestinations.Folder(keys.Sub("nas"));
            o.Encryption.Recipients = [recipient];
        });
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        var jobs = h.Get<BackupJobRunner>();
        var copied = await jobs.WhenFinishedAsync(jobs.StartCopy(null, Admin).Id);
        Assert.Equal([backup.Filename], Assert.Single(copied.Copies!).Copied);
        var original = File.ReadAllBytes(h.PathOf(backup.Filename));
        File.Delete(h.PathOf(backup.Filename));
        Directory.Delete(h.Xrays, recursive: true);

        var steps = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watching = jobs.Subscribe(j => { if (j.Progress is { } p) steps.Enqueue(p.Phase); });
        var job = jobs.StartFetchRestore("NAS", backup.Filename, TestDestinations.Identities(identityFile),
            BackupScope.Full, Admin);
        Assert.Equal((BackupJobKind.FetchRestore, "nas"), (job.Kind, job.Destination));
        var done = await jobs.WhenFinishedAsync(job.Id);

        Assert.True(done.Status == BackupJobStatus.Succeeded, done.Error);
        Assert.Equal(original, File.ReadAllBytes(h.PathOf(backup.Filename)));
        Assert.True(Directory.Exists(h.Xrays)); // the files came back from the fetched archive
        Assert.NotNull(done.SafetyBackup);
        // The one-pass path of restore-backup --from: restored from the rebuilt copy, not fetched, verified, restored.
        Assert.Contains(steps, m => m.Contains("restoring it, every entry verified as it is staged"));
        var entries = h.Get<AuditLog>().Read();
        Assert.Contains(entries, e => e is { Action: "fetch-from:nas", Outcome: AuditOutcome.Succeeded });
        Assert.Contains(entries, e => e.Action == "restore" && e.Target == backup.Filename
            && e.Outcome == AuditOutcome.Succeeded);
    }
}
