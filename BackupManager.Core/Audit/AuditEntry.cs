namespace BackupManager.Core.Audit;

/// <summary>One line of the audit log: who did what, when, from where, and how it ended.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string? Address, string Action, string? Target,
    string Outcome, string? Detail = null);
