namespace BackupManager.Core.Health;

/// <summary>One health check: its name, whether it passes, and a sentence an administrator can act on.</summary>
public sealed record BackupCheck(string Name, bool Healthy, string Detail);
