namespace BackupManager.Core.Jobs;

/// <summary>Who asked, and from where (an IP address, "console", or a scheduler name).</summary>
public sealed record Actor(string Name, string? Address);
