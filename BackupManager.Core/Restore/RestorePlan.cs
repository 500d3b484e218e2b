namespace BackupManager.Core.Restore;

/// <summary>What to put back from a verified archive.</summary>
/// <summary>What to put back from a verified archive; <see cref="Foreign"/>: not made by this installation (confirmed
/// by the caller).</summary>
internal sealed record RestorePlan(bool Database, IReadOnlyList<(string RootName, FileRoot Target)> Folders,
    bool Foreign = false, bool Drill = false);
