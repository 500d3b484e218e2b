using BackupManager.Core;
using BackupManager.Core.Audit;
using BackupManager.Core.Restore;
using BackupManager.Core.Storage;

namespace BackupManager.Web.Health;

/// <summary>
/// A console restore may be killed while the web app runs. Its journal then outlives it with no process holding the
/// operation lock: this watcher notices within <see cref="Interval"/> and finishes or undoes that restore (the same
/// recovery a restart runs), instead of leaving the clinic on staging names until the next restart. While the lock is
/// held, the restore is alive and recovery is not attempted.
/// </summary>
internal sealed class OrphanedRestoreWatcher(IBackupService backups, IBackupStore store, AuditLog audit,
    ILogger<OrphanedRestoreWatcher> logger)
    : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (!File.Exists(RestoreJournal.PathIn(store.Directory))) continue;
            try
            {
                foreach (var message in await backups.RecoverAsync(stoppingToken).ConfigureAwait(false))
                {
                    logger.LogWarning("{Message}", message);
                    audit.Record("restore-watcher", null, "recover", null, AuditOutcome.Succeeded, message);
                }
            }
            catch (Exception e) when (e is BackupException or IOException)
            {
                // Health reports the unfinished restore meanwhile; the next tick tries again.
                logger.LogError(e, "Finishing an interrupted restore failed; retrying in {Interval}", Interval);
            }
        }
    }
}
