namespace BackupManager.Core.Health;

/// <summary>The health of the backups as a whole; healthy only when every check passes.</summary>
public sealed record BackupHealthReport(bool Healthy, IReadOnlyList<BackupCheck> Checks, DateTimeOffset CheckedAt)
{
    public string Summary => Healthy ? "Backups are healthy." : string.Join(" ",
        Checks.Where(c => !c.Healthy).Select(c => c.Detail));
}
