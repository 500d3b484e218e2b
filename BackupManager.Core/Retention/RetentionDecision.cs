namespace BackupManager.Core.Retention;

/// <summary>A keep or delete decision about one backup, with the rule that made it.</summary>
public sealed record RetentionDecision(BackupInfo Backup, bool Keep, string Reason);
