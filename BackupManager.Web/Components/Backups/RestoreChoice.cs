using BackupManager.Core;

namespace BackupManager.Web.Components.Backups;

/// <summary>What the restore dialog was confirmed with: the scope, and for a foreign backup the explicit extra
/// confirmation.</summary>
public sealed record RestoreChoice(BackupScope Scope, bool AllowForeign);
