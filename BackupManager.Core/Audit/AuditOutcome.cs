namespace BackupManager.Core.Audit;

/// <summary>Outcomes used in audit entries.</summary>
public static class AuditOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Refused = "refused";
    public const string Started = "started";
}
