namespace BackupManager.Core.Pitr;

/// <summary>
/// Point-in-time recovery at a glance: the restorable window, the receiver (as the server sees the slot, and this
/// process's own receiver if it runs one), how far the received WAL trails, what the slot holds on the server, and
/// the newest base backup. <see cref="Problem"/> says why the server could not be asked.
/// </summary>
public sealed record PitrStatus(bool Enabled, DateTimeOffset? WindowFrom, DateTimeOffset? WindowTo, string SlotName,
    string Receiver, bool? Streaming, double? LagSeconds, long? SlotRetainedBytes, string? LastBaseBackup,
    DateTimeOffset? LastBaseBackupAt, string? Problem)
{
    /// <summary>Other BackupManager slots on the server without a receiver (a moved backup folder leaves one).
    /// </summary>
    public IReadOnlyList<StaleSlot> StaleSlots { get; init; } = [];
}
