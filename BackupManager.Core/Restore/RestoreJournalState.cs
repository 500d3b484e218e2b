namespace BackupManager.Core.Restore;

public enum RestoreJournalState
{
    /// <summary>Staging copies are being built; the live database and folders are untouched. Recovery rolls
    /// back.</summary>
    Preparing,
    /// <summary>Everything is staged and checked; swaps are under way. Recovery rolls forward.</summary>
    Committing,
    /// <summary>
    /// All swaps are done; the previous state is parked under the old names until its safety backup is written
    /// (<see cref="RestoreJournal.SafetyBackup"/> set), then removed. Recovery writes the safety backup if it is
    /// missing.
    /// </summary>
    Committed,
}
