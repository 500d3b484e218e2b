namespace BackupManager.Core.Restore;

/// <summary>
/// The state a restore swapped out, still whole under its parked names: the database <see cref="Database"/> (null if
/// the restore left the database alone) and each replaced folder. Archiving it gives the pre-restore safety backup.
/// </summary>
internal sealed record ParkedState(DateTimeOffset ParkedAt, string RequestedBy, string? Database,
    IReadOnlyList<(string LiveFolder, string ParkedFolder)> Folders)
{
    /// <summary>What a committed journal parked: its old database, and the old copy of each folder that existed
    /// before.</summary>
    public static ParkedState From(RestoreJournal journal) => new(journal.ParkedAt ?? journal.StartedAt,
        journal.RequestedBy, journal.DatabaseOld,
        journal.Folders.Where(f => f.TargetExisted).Select(f => (f.Target, f.Old)).ToList());

    /// <summary>"the database X and the folder Y": where the replaced state is kept, for warnings and the health
    /// check.</summary>
    public string Describe() => string.Join(" and ", new[] { Database is null ? null : $"the database {Database}" }
        .Concat(Folders.Select(f => $"the folder {f.ParkedFolder}")).OfType<string>());
}
