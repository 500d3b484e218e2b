namespace BackupManager.Core.Pitr;

/// <summary>The slot as <c>pg_replication_slots</c> shows it (null fields: no such slot).</summary>
public sealed record PitrSlotState(bool Exists, bool Active, int? ActivePid, long? RetainedBytes, double? LagSeconds);
