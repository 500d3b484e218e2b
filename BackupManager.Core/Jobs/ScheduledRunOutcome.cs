namespace BackupManager.Core.Jobs;

public enum ScheduledRunOutcome { Succeeded, Failed, Skipped }
