namespace BackupManager.Core.Database;

/// <summary>
/// Produces a consistent snapshot of the database. Contract: <see cref="DumpAsync"/> writes an uncompressed
/// <c>pg_dump -Fc</c> archive (the caller compresses it, on its own core) that a plain <c>pg_restore</c> reads; it is
/// a single MVCC snapshot however long it runs, so the application may keep writing. Any failure throws
/// <see cref="BackupException"/> (never a partial success): what was written is then garbage and the caller discards
/// it. Retrying is safe.
/// </summary>
public interface IDatabaseDumper
{
    /// <summary>
    /// Connects and reports the database name, server version, dump tool version, database-level state and the roles
    /// it needs; fails fast on bad credentials. <paramref name="fromDatabase"/> as in <see cref="DumpAsync"/>.
    /// </summary>
    Task<DatabaseDescription> DescribeAsync(string? fromDatabase, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the dump to <paramref name="destination"/> as it is produced. <paramref name="fromDatabase"/> names
    /// another
    /// database on the same server to read instead of the live one (a restore's parked previous state); null for the
    /// live one.
    /// </summary>
    /// <remarks>With <paramref name="lowPriority"/> pg_dump runs niced, in the idle I/O class.</remarks>
    Task DumpAsync(Stream destination, string? fromDatabase, CancellationToken cancellationToken,
        bool lowPriority = false);

    /// <summary>As <see cref="DumpAsync"/>, and reports the WAL position of
    /// the dump's snapshot to <paramref name="snapshotLsn"/> before the dump starts (a dumper that cannot tell never
    /// calls it).</summary>
    Task DumpSnapshotAsync(Stream destination, string? fromDatabase, bool lowPriority, Action<string> snapshotLsn,
        CancellationToken cancellationToken) => DumpAsync(destination, fromDatabase, cancellationToken, lowPriority);

    /// <summary>Watches the server the dump reads from for other work (a low-priority backup's throttle follows it);
    /// null when this dumper cannot tell. Opening happens at the first sample, so this never fails.</summary>
    IO.ILoadSignal? WatchServerLoad() => null;
}
