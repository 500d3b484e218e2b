namespace BackupManager.Core.Drills;

/// <summary>One day's backups of one trigger, in the clinic's time zone.</summary>
public sealed record HistoryDay(DateOnly Date, BackupTrigger Trigger, int Count, long Bytes, long DatabaseBytes,
    long FilesBytes, double? AverageSeconds);
