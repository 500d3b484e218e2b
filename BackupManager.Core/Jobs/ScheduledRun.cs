namespace BackupManager.Core.Jobs;

/// <summary>The last run of one schedule, for the page, health and notifications.</summary>
public sealed record ScheduledRun(string Schedule, DateTimeOffset At, ScheduledRunOutcome Outcome, string? Filename,
    string? Detail, bool CatchUp);
