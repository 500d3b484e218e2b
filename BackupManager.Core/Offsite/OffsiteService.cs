using BackupManager.Core.Locking;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Off-site copies in the <see cref="OffsiteFormat"/>: encrypted with age to <c>Backup__Encryption__Recipients</c>,
/// incremental (each distinct stored content once per destination). Contract:
/// <list type="bullet">
/// <item>What still needs copying is derived from what each destination holds (its catalogs), so a restart or an
/// outage catches up on its own. A copy never changes or deletes a local backup.</item>
/// <item>Objects go first, then the index, then the catalog: a backup is listed at a destination only once all it
/// needs is there. Each object is written atomically by its <see cref="IDestinationStorage"/>.</item>
/// <item>Retention at a destination removes catalogs first, then sweeps objects no catalog references and that are
/// older than a day (an upload in progress elsewhere references its objects only once its catalog is written).
/// <c>NeverDelete</c> destinations are never swept.</item>
/// <item>Copy runs, checks and sweeps of one destination are serialised across processes by a lock file.</item>
/// <item>Failures are reported per destination (<see cref="CopyReport.Error"/>, state, health) with a message that
/// says what to do; they never surface as stack traces.</item>
/// </list>
/// The one entry point for callers; the work is done by its parts, which share an <see cref="OffsiteContext"/>:
/// <see cref="OffsiteCopier"/> (copying, then <see cref="OffsiteSweeper"/> for retention and the sweep),
/// <see cref="OffsiteFetcher"/> (listing and fetching back), <see cref="OffsiteChecker"/>, <see cref="OffsiteStatus"/>
/// and <see cref="EncryptedDownload"/>.
/// </summary>
public sealed class OffsiteService
{
    public const string NamingKeyFileName = OffsiteContext.NamingKeyFileName;
    private readonly OffsiteContext _context;
    private readonly OffsiteCopier _copier;
    private readonly OffsiteFetcher _fetcher;
    private readonly OffsiteChecker _checker;
    private readonly OffsiteStatus _status;
    private readonly EncryptedDownload _download;

    /// <summary>The parts over one shared context; <paramref name="openStorage"/> is how a destination is reached:
    /// <see cref="OpenStorage"/> unless a test puts a fault injector in between.</summary>
    public OffsiteService(IOptions<BackupOptions> options, IBackupStore store, IBackupService backups,
        TimeProvider time, ILogger<OffsiteService> logger,
        Func<string, DestinationOptions, IDestinationStorage>? openStorage = null)
    {
        _context = new OffsiteContext(options.Value, store, time, logger, openStorage ?? OpenStorage);
        _copier = new OffsiteCopier(_context, new OffsiteSweeper(_context));
        _fetcher = new OffsiteFetcher(_context, backups);
        _checker = new OffsiteChecker(_context);
        _status = new OffsiteStatus(_context);
        _download = new EncryptedDownload(_context);
    }

    /// <summary>What the parts share; point-in-time recovery's copier reuses it.</summary>
    internal OffsiteContext Context => _context;

    /// <summary>The configured destinations, ordered by name.</summary>
    public IReadOnlyList<string> DestinationNames => _context.DestinationNames;

    /// <summary>Whether age recipients are configured (copies and downloads are encrypted to them).</summary>
    public bool CanEncrypt => _context.Recipients.Count > 0;

    /// <summary>The storage of a configured destination, by its type.</summary>
    public static IDestinationStorage OpenStorage(string name, DestinationOptions options) => options.ParsedType switch
    {
        DestinationType.Folder => new FolderDestination(name, options.Path!),
        DestinationType.S3 => new S3Destination(name, options),
        DestinationType.Sftp => new SftpDestination(name, options),
        _ => throw new BackupException(BackupErrorKind.InvalidInput, $"Destination {name} has no valid Type."),
    };

    /// <summary>The configured spelling of destination <paramref name="name"/>; NotFound, with what is configured,
    /// otherwise.</summary>
    public string DestinationName(string name) => _context.Destination(name).Name;

    /// <summary>Each destination's last known state and the local backups it still lacks (from the last
    /// listing).</summary>
    public IReadOnlyList<DestinationStatus> GetStatus() => _status.GetStatus();

    /// <summary>Where <paramref name="filename"/> has been copied, per destination.</summary>
    public IReadOnlyList<BackupCopy> CopiesOf(string filename, IReadOnlyList<DestinationStatus>? status = null) =>
        _status.CopiesOf(filename, status);

    /// <summary>One health check per destination: last success, backups waiting, lag, check failures, unencrypted
    /// remote.</summary>
    public IReadOnlyList<Health.BackupCheck> HealthChecks() => _status.HealthChecks();

    /// <summary>
    /// A backup encrypted to the recipients, for a laptop or a USB stick: a stream of the age file, computed as it is
    /// read (no temporary copy), and its exact length.
    /// </summary>
    public (Stream Content, long Length) OpenEncrypted(string filename) => _download.Open(filename);

    /// <summary>
    /// Copies what each destination (or only <paramref name="destination"/>) still lacks — every local backup its
    /// retention would keep, or only <paramref name="filename"/> — then applies its retention. Never throws for a
    /// destination's failure: that is in the report, the state and the log.
    /// </summary>
    public Task<IReadOnlyList<CopyReport>> CopyPendingAsync(string? filename = null, string? destination = null,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default) =>
        _copier.CopyPendingAsync(filename, destination, progress, cancellationToken);

    /// <summary>The backups a destination holds, newest first, with the fields of the local list.</summary>
    public Task<IReadOnlyList<BackupInfo>> ListAsync(string destination,
        CancellationToken cancellationToken = default) => _fetcher.ListAsync(destination, cancellationToken);

    /// <summary>
    /// Fetches <paramref name="filename"/> from <paramref name="destination"/>, decrypts it with
    /// <paramref name="identities"/> (held only for this call), rebuilds the original zip byte for byte (every
    /// object's SHA-256 and the whole archive's checked), adds it to the backup folder after a full verify, and
    /// returns it. The installation then adopts the destination's naming key, so later copies reuse what is there.
    /// </summary>
    public Task<BackupInfo> FetchAsync(string destination, string filename, IReadOnlyList<AgeIdentity> identities,
        string requestedBy,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default,
        BackupOperationLock.Lease? lease = null) =>
        _fetcher.FetchAsync(destination, filename, identities, requestedBy, progress, cancellationToken, lease);

    /// <summary>
    /// Fetches <paramref name="request"/>'s backup as <see cref="FetchAsync"/> does and restores it, reading the
    /// rebuilt archive once: the restore verifies every entry while it stages and adds the copy to the backup folder
    /// only once all passed, before the swap; a copy that fails is deleted, never listed. <paramref name="fetched"/>
    /// runs once the archive is rebuilt and decrypted, before the restore starts (a job audits the fetch there).
    /// </summary>
    public Task<RestoreResult> FetchAndRestoreAsync(string destination, IReadOnlyList<AgeIdentity> identities,
        RestoreBackupRequest request, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default, Action? fetched = null) =>
        _fetcher.FetchAndRestoreAsync(destination, identities, request, progress, cancellationToken, fetched);

    /// <summary>
    /// Checks that every catalog's index and objects are present with the recorded sizes, and re-downloads a rotating
    /// sample (at least 1/7 of the objects and up to <paramref name="sampleBytes"/>, continuing where the last check
    /// stopped, so a week of daily checks reads everything) comparing each with the SHA-256 recorded at upload.
    /// </summary>
    public Task<CheckReport> CheckAsync(string destination, long sampleBytes = 1L << 30,
        CancellationToken cancellationToken = default) =>
        _checker.CheckAsync(destination, sampleBytes, cancellationToken);
}
