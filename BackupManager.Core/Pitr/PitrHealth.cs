using System.Globalization;
using BackupManager.Core.Health;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Point-in-time recovery's health checks (none while <c>Backup__Pitr__Enabled</c> is false): a receiver streaming
/// within <c>MaxLagSeconds</c>, a slot holding no more than <c>MaxSlotRetainedBytes</c> on the database server (a slot
/// without a receiver keeps WAL until that disk fills), and a base backup to start from.
/// </summary>
public static class PitrHealth
{
    public const string ReceiverCheck = "Point-in-time WAL", SlotCheck = "Point-in-time slot",
        BaseBackupCheck = "Point-in-time base backup", StaleSlotsCheck = "Point-in-time other slots";

    public static IReadOnlyList<BackupCheck> Checks(PitrStatus status, PitrOptions options)
    {
        if (!status.Enabled) return [];
        return [Receiver(status, options), Slot(status, options), BaseBackup(status), StaleSlots(status, options)];
    }

    private static BackupCheck Receiver(PitrStatus status, PitrOptions options)
    {
        if (status.Problem is { } problem)
            return new(ReceiverCheck, false, $"The database server could not be asked about slot {status.SlotName}: "
                + $"{problem} While it cannot be reached no WAL is received.");
        if (status.Streaming != true)
            return new(ReceiverCheck, false, $"No WAL receiver is streaming from slot {status.SlotName}, so writes "
                + $"made since {Time(status.WindowTo)} cannot be restored to a point in time. Check the web app's log "
                + "(WAL receiver) and that the role has REPLICATION; app:pitr-status shows the last error.");
        if (status.LagSeconds is { } lag && lag > options.MaxLagSeconds)
            return new(ReceiverCheck, false, $"The received WAL trails the server by "
                + $"{lag.ToString("0", CultureInfo.InvariantCulture)} s (Backup__Pitr__MaxLagSeconds="
                + $"{options.MaxLagSeconds}). Check the disk of the backup folder and the network to the server.");
        return new(ReceiverCheck, true, $"Streaming from slot {status.SlotName}; restorable up to "
            + $"{Time(status.WindowTo)}.");
    }

    private static BackupCheck Slot(PitrStatus status, PitrOptions options)
    {
        if (status.SlotRetainedBytes is not { } held || held <= options.MaxSlotRetainedBytes)
            return new(SlotCheck, true, status.SlotRetainedBytes is { } bytes
                ? $"Slot {status.SlotName} holds {Size(bytes)} of WAL on the database server."
                : $"Slot {status.SlotName}: not known how much WAL it holds (see {ReceiverCheck}).");
        return new(SlotCheck, false, $"Slot {status.SlotName} holds {Size(held)} of WAL on the database server "
            + $"(Backup__Pitr__MaxSlotRetainedBytes={Size(options.MaxSlotRetainedBytes)}); the server keeps it until a "
            + "receiver catches up, and its disk fills. Start the receiver, or set max_slot_wal_keep_size "
            + "(docs/backup-procedures.md, point-in-time recovery).");
    }

    private static BackupCheck StaleSlots(PitrStatus status, PitrOptions options)
    {
        var full = status.StaleSlots.Where(s => s.RetainedBytes > options.MaxSlotRetainedBytes).ToList();
        if (full.Count == 0)
            return new(StaleSlotsCheck, true, "No other BackupManager slot keeps WAL on the database server.");
        var names = string.Join(", ", full.Select(s => $"{s.Name} ({Size(s.RetainedBytes)})"));
        return new(StaleSlotsCheck, false, $"Slot(s) {names} on the database server belong to no running receiver "
            + $"and are not this backup folder's ({status.SlotName}); the server keeps their WAL until its disk fills. "
            + "A backup folder that moved leaves one: if no installation uses it, drop it as a superuser with "
            + "SELECT pg_drop_replication_slot('<name>'); otherwise start that installation's receiver.");
    }

    private static BackupCheck BaseBackup(PitrStatus status) => status.LastBaseBackup is { } name
        ? new(BaseBackupCheck, true, $"Newest base backup: {name}.")
        : new(BaseBackupCheck, false, "There is no base backup, so nothing can be restored to a point in time yet. "
            + "Run app:base-backup.");

    private static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "the start";

    private static string Size(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
