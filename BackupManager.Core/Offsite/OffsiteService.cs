using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.IO;
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
/// </summary>
public sealed partial class OffsiteService
{
    public const string NamingKeyFileName = ".offsite-naming-key";
    internal static readonly TimeSpan SweepGrace = TimeSpan.FromDays(1);
    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly IBackupService _backups;
    private readonly TimeProvider _time;
    private readonly ILogger<OffsiteService> _logger;
    private readonly OffsiteStateFile _state;
    private readonly IReadOnlyList<AgeRecipient> _recipients;
    private readonly Func<string, DestinationOptions, IDestinationStorage> _open;

    public OffsiteService(IOptions<BackupOptions> options, IBackupStore store, IBackupService backups,
        TimeProvider time, ILogger<OffsiteService> logger,
        Func<string, DestinationOptions, IDestinationStorage>? openStorage = null)
    {
        _options = options.Value;
        _store = store;
        _backups = backups;
        _time = time;
        _logger = logger;
        _state = new OffsiteStateFile(store.Directory);
        _recipients = _options.Encryption.Recipients.Select(AgeRecipient.Parse).ToList();
        _open = openStorage ?? OpenStorage;
    }

    public IReadOnlyList<string> DestinationNames =>
        _options.Destinations.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();

    public bool CanEncrypt => _recipients.Count > 0;

    public static IDestinationStorage OpenStorage(string name, DestinationOptions options) => options.ParsedType switch
    {
        DestinationType.Folder => new FolderDestination(name, options.Path!),
        DestinationType.S3 => new S3Destination(name, options),
        DestinationType.Sftp => new SftpDestination(name, options),
        _ => throw new BackupException(BackupErrorKind.InvalidInput, $"Destination {name} has no valid Type."),
    };

    /// <summary>The configured spelling of destination <paramref name="name"/>; NotFound, with what is configured,
    /// otherwise.</summary>
    public string DestinationName(string name) => Destination(name).Name;

    private (string Name, DestinationOptions Options) Destination(string name) =>
        _options.Destinations.TryGetValue(name, out var d)
            ? (_options.Destinations.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)), d)
            : throw new BackupException(BackupErrorKind.NotFound, DestinationNames.Count == 0
                ? $"There is no destination named '{name}': none is configured. Add one with "
                    + $"Backup__Destinations__<name>__Type (s3, sftp or folder)."
                : $"There is no destination named '{name}'. Configured: {string.Join(", ", DestinationNames)}.");

    private bool Encrypts(DestinationOptions options) => _recipients.Count > 0;

    // ---------------------------------------------------------------- state for pages, API and health

    /// <summary>Each destination's last known state and the local backups it still lacks (from the last
    /// listing).</summary>
    public IReadOnlyList<DestinationStatus> GetStatus()
    {
        var all = _state.ReadAll();
        var local = _store.List().Where(b => b.Readable).ToList();
        return DestinationNames.Select(name =>
        {
            var options = _options.Destinations[name];
            var state = all.GetValueOrDefault(name) ?? new DestinationState();
            // What the destination held at the last listing, dated by name where the local copy is gone.
            var held = state.Held.Select(h => local.FirstOrDefault(l => l.Filename == h)
                ?? new BackupInfo(h, 0, BackupFileName.TimeOf(h), BackupTrigger.Unknown, [], null, false, true, 0));
            var pending = Wanted(local, held.ToList(), options).OrderBy(b => b.CreatedAt).ToList();
            return new DestinationStatus(name, options.ParsedType?.ToString().ToLowerInvariant() ?? "?",
                Describe(name, options),
                Encrypts(options), options.NeverDelete, options.MaxLagHours, state,
                    pending.Select(p => p.Filename).ToList(), pending.FirstOrDefault()?.CreatedAt);
        }).ToList();
    }

    private static string Describe(string name, DestinationOptions options) => options.ParsedType switch
    {
        DestinationType.Folder => options.Path!,
        DestinationType.S3 => $"s3://{options.Bucket}/{options.Prefix?.Trim('/')}",
        DestinationType.Sftp =>
            $"sftp://{options.Username}@{options.Host}:{options.Port}/{options.Path?.TrimStart('/')}",
        _ => name,
    };

    /// <summary>Where <paramref name="filename"/> has been copied, per destination.</summary>
    public IReadOnlyList<BackupCopy> CopiesOf(string filename, IReadOnlyList<DestinationStatus>? status = null) =>
        (status ?? GetStatus()).Select(d => new BackupCopy(d.Name,
            d.State.Held.Contains(filename) ? CopyState.Copied
            : d.Pending.Contains(filename) ? (d.State.LastError is null ? CopyState.Pending : CopyState.Failed)
            : CopyState.NotKept)).ToList();

    /// <summary>One health check per destination: last success, backups waiting, lag, check failures, unencrypted
    /// remote.</summary>
    public IReadOnlyList<Health.BackupCheck> HealthChecks()
    {
        var now = _time.GetUtcNow();
        var checks = new List<Health.BackupCheck>();
        foreach (var d in GetStatus())
        {
            var check = $"destination:{d.Name}";
            var lag = d.OldestPendingAt is { } oldest ? now - oldest : TimeSpan.Zero;
            if (lag > TimeSpan.FromHours(d.MaxLagHours))
                checks.Add(new(check, false,
                    $"{d.Pending.Count} backup(s) have waited {lag.TotalHours:0} hours to be copied to {d.Name} "
                    + $"(limit {d.MaxLagHours} h). "
                    + (d.State.LastError is { } error
                        ? $"Last error: {error}" : "Check that the web app runs, or run app:copy-backup.")));
            else if (d.State.CheckProblems.Count > 0)
                checks.Add(new(check, false,
                    $"The last check of {d.Name} found {d.State.CheckProblems.Count} problem(s): "
                    + $"{d.State.CheckProblems[0]} Run app:check-destination {d.Name}."));
            else if (d.State.LastError is { } error
                && (d.State.LastErrorNeedsAction || d.State.ConsecutiveFailures >= 3))
                checks.Add(new(check, false,
                    d.State.ConsecutiveFailures >= 3
                    ? $"Copies to {d.Name} failed {d.State.ConsecutiveFailures} times in a row: {error}"
                    : $"Copies to {d.Name} fail: {error}"));
            else
                checks.Add(new(check, true, (d.State.LastSuccessAt is { } at
                    ? $"{d.Name}: last copy {at:yyyy-MM-dd HH:mm} UTC; {d.Pending.Count} waiting."
                    : $"{d.Name}: nothing copied yet; {d.Pending.Count} waiting.")
                    + (d.State.LastError is { } retrying
                        ? $" The last attempt failed and is retried: {retrying}" : "")));
            if (!d.Encrypted && d.Type is "s3" or "sftp")
                checks.Add(new($"{check}:encryption", false,
                    $"{d.Name} receives the clinic's data unencrypted (AllowUnencrypted). Set "
                    + $"Backup__Encryption__Recipients__0 to the clinic's age1… key."));
        }
        return checks;
    }

    // ---------------------------------------------------------------- encrypted download

    /// <summary>
    /// A backup encrypted to the recipients, for a laptop or a USB stick: a stream of the age file, computed as it is
    /// read (no temporary copy), and its exact length.
    /// </summary>
    public (Stream Content, long Length) OpenEncrypted(string filename)
    {
        if (_recipients.Count == 0)
            throw new BackupException(BackupErrorKind.InvalidInput,
                "No age recipients are configured, so there is nothing to encrypt to. Set "
                + "Backup__Encryption__Recipients__0 to the clinic's age1… key.");
        var path = _store.ResolveExisting(filename);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20,
            FileOptions.SequentialScan);
        var encrypted = AgeFormat.Encrypt(file, file.Length, _recipients);
        return (encrypted, encrypted.Length);
    }

    /// <summary>A read-only window of <paramref name="size"/> bytes from the current position of <paramref
    /// name="inner"/>.</summary>
    private sealed class RangeStream(Stream inner, long size) : ReadOnlyStream
    {
        private readonly long _size = size;
        private long _left = size;
        public override long Length => _size;
        public override long Position { get => _size - _left; set => throw new NotSupportedException(); }
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)],
                cancellationToken).ConfigureAwait(false);
            _left -= n;
            return n;
        }
    }
}
