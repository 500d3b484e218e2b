namespace BackupManager.Core.Offsite.Destinations;

/// <summary>An object at a destination: its key (a '/'-separated path under the destination's root), size and
/// time.</summary>
public sealed record RemoteObject(string Key, long Size, DateTimeOffset? Modified);
