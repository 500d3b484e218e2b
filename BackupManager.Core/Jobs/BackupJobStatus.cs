namespace BackupManager.Core.Jobs;

public enum BackupJobStatus { Queued, Running, Succeeded, Failed }
