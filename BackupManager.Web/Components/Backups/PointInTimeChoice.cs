using BackupManager.Core;

namespace BackupManager.Web.Components.Backups;

/// <summary>What the point-in-time dialog was confirmed with: the time (checked against the window) and the scope,
/// DatabaseOnly or Full.</summary>
public sealed record PointInTimeChoice(DateTimeOffset Target, BackupScope Scope);
