namespace BackupManager.Core.Restore;

/// <summary>One folder's three names during a restore: live, staged replacement, and the old copy kept until
/// success.</summary>
public sealed record FolderSwapPlan(string Target, string Staging, string Old, bool TargetExisted);
