namespace BackupManager.Core.Database;

/// <summary>
/// Puts a dump back as the live database without ever exposing a half-restored one. Contract:
/// <see cref="PrepareAsync"/> restores into a separate staging database (the live database is not touched; on failure
/// the staging database is dropped, so it is never used half-restored). <see cref="SwapInAsync"/> then exchanges the
/// two by renames
/// in one transaction, keeping the live one under <c>oldName</c>: it either happens whole or not at all, and a
/// database named live exists before, after and (to every other session) during it. <see cref="SwapBackAsync"/>
/// undoes that the same way. Both swaps are idempotent
/// and decide from which databases exist, so a swap interrupted by a crash can be finished or undone by calling
/// either again. Failures throw <see cref="BackupException"/>.
/// </summary>
public interface IDatabaseRestorer
{
    /// <summary>The live database's name.</summary>
    string DatabaseName { get; }

    /// <summary>
    /// Restores the dump into <paramref name="stagingName"/> with <paramref name="recorded"/>'s database-level state
    /// and roles (missing roles are created or the restore is refused before anything changes). Returns warnings for
    /// what could only be restored in part, each with the statement that completes it. No archive's SQL ever runs in a
    /// session that logged in as a superuser (<see cref="ArchiveSqlLogin"/>); a <paramref name="foreign"/> archive (not
    /// made by this installation) does not choose the database's owner. Without
    /// <paramref name="createMissingRoles"/> (a restore drill) a missing role is refused by name instead of created.
    /// </summary>
    Task<IReadOnlyList<string>> PrepareAsync(string stagingName, ManifestDatabase recorded, bool foreign, Func<Stream,
        CancellationToken, Task> writeDump,
        CancellationToken cancellationToken, bool createMissingRoles = true);

    Task SwapInAsync(string stagingName, string oldName, CancellationToken cancellationToken);

    Task SwapBackAsync(string stagingName, string oldName, CancellationToken cancellationToken);

    Task DropIfExistsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="names"/> exist on the server now (to say truthfully where things are after a
    /// failure).</summary>
    Task<IReadOnlySet<string>> WhichExistAsync(IReadOnlyList<string> names, CancellationToken cancellationToken);

    /// <summary>
    /// Lets a parked database (connections were barred while it was swapped out) be read again, to archive it;
    /// false if there is no such database (the restore created the live database rather than replacing one).
    /// </summary>
    Task<bool> AllowConnectionsIfExistsAsync(string name, CancellationToken cancellationToken);
}
