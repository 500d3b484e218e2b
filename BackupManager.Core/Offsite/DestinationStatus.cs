namespace BackupManager.Core.Offsite;

/// <summary>A destination as the page, the API and health show it.</summary>
public sealed record DestinationStatus(string Name, string Type, string Location, bool Encrypted, bool NeverDelete,
    int MaxLagHours,
    DestinationState State, IReadOnlyList<string> Pending, DateTimeOffset? OldestPendingAt);
