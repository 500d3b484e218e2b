using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Health;
using BackupManager.Core.Jobs;
using BackupManager.Web.Notifications;
using BackupManager.Web.Scheduling;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Health;

/// <summary>
/// Evaluates backup health and tells people when it changes. The last known state is kept in
/// <c>.health-state.json</c> beside the backups, so a restart neither repeats nor forgets a notification.
/// </summary>
public sealed class BackupHealthService(IBackupService backups, Core.Storage.IBackupStore store,
    ScheduleHistory history, BackupScheduleCatalog schedules,
    IOptions<BackupHealthOptions> options, IOptions<ScheduleOptions> scheduleOptions, Notifier notifier,
        TimeProvider time, ILogger<BackupHealthService> logger,
    Core.Offsite.OffsiteService offsite, Core.Pitr.PitrStatusReader? pitr = null)
{
    private const string StateFileName = ".health-state.json";
    private readonly SemaphoreSlim _transition = new(1, 1);

    public async Task<BackupHealthReport> EvaluateAsync(CancellationToken cancellationToken = default)
    {
        var status = await backups.GetStatusAsync(cancellationToken);
        // Only the schedules that exist now count: a renamed or disabled schedule's old failure does not.
        var names = scheduleOptions.Value.Enabled ? schedules.Recorded.Select(s => s.Name).ToHashSet() : [];
        var runs = history.Last().Where(r => names.Contains(r.Key)).ToDictionary(r => r.Key, r => r.Value);
        var report = BackupHealthEvaluator.Evaluate(status, runs, options.Value, time.GetUtcNow());
        // Each off-site destination is a check of its own: last copy, backups waiting, lag, check failures, encryption.
        var drillScheduled = scheduleOptions.Value.Enabled && scheduleOptions.Value.DrillEnabled;
        var oldest = (await backups.ListAsync(cancellationToken)).Where(b => b.Readable)
            .Select(b => (DateTimeOffset?)b.CreatedAt).Min();
        var nextDrill = drillScheduled ? new BackupSchedule("drill", BackupTrigger.Unknown,
            scheduleOptions.Value.Drill, scheduleOptions.Value.ResolveTimeZone()).NextRunAfter(time.GetUtcNow()) : null;
        var drill = BackupHealthEvaluator.Drill(new Core.Drills.DrillHistory(store.Directory).Last(), drillScheduled,
            oldest, options.Value, time.GetUtcNow(),
            nextDrill is { } at
                ? $"{TimeZoneInfo.ConvertTime(at, scheduleOptions.Value.ResolveTimeZone()):yyyy-MM-dd HH:mm} "
                + $"({scheduleOptions.Value.ResolveTimeZone().Id})" : null);
        var pitrChecks = pitr is null ? [] : await pitr.HealthChecksAsync(cancellationToken);
        var checks = report.Checks.Append(drill).Concat(offsite.HealthChecks()).Concat(pitrChecks).ToList();
        return report with { Checks = checks, Healthy = checks.All(c => c.Healthy) };
    }

    /// <summary>Evaluates, and notifies when health turned bad or recovered since the last check.</summary>
    public async Task<BackupHealthReport> CheckAndNotifyAsync(CancellationToken cancellationToken = default)
    {
        var report = await EvaluateAsync(cancellationToken);
        await _transition.WaitAsync(cancellationToken);
        try
        {
            var statePath = Path.Combine(store.Directory, StateFileName);
            var previous = ReadState(statePath);
            if (previous != report.Healthy)
            {
                WriteState(statePath, report.Healthy);
                if (!report.Healthy)
                    await notifier.NotifyAsync(new Notification(Notification.HealthBad, "Backups are unhealthy",
                        report.Summary, report.CheckedAt), cancellationToken);
                else if (previous is false)
                    await notifier.NotifyAsync(new Notification(Notification.HealthRecovered,
                        "Backups are healthy again", "Every backup health check passes again.", report.CheckedAt),
                        cancellationToken);
                logger.LogWarning("Backup health changed to {State}: {Summary}", report.Healthy ? "healthy"
                    : "unhealthy", report.Summary);
            }
        }
        finally
        {
            _transition.Release();
        }
        return report;
    }

    private static bool? ReadState(string path)
    {
        try { return JsonSerializer.Deserialize<bool>(File.ReadAllText(path)); }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    private static void WriteState(string path, bool healthy) =>
        Core.IO.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(healthy));
}
