using System.Reflection;
using System.Text.RegularExpressions;
using BackupManager.Core.Archive;
using BackupManager.Core.Database;
using BackupManager.Core.Files;
using BackupManager.Core.Locking;
using BackupManager.Core.Restore;
using BackupManager.Core.Retention;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core;

/// <summary>The backup engine. See <see cref="IBackupService"/> for the contract every front end relies on.</summary>
public sealed partial class BackupService : IBackupService
{
    private static readonly string AppVersion =
        typeof(BackupService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0";

    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly BackupOperationLock _lock;
    private readonly IDatabaseDumper? _dumper;
    private readonly IDatabaseRestorer? _restorer;
    private readonly TimeProvider _time;
    private readonly ILogger<BackupService> _logger;
    private readonly IReadOnlyList<FileRoot> _roots;
    private readonly FileTreeScanner _scanner;
    private readonly ArchiveSigner? _signer;
    private readonly PostgresTarget? _target;
    private readonly BackupCommitted? _committed;

    public BackupService(IOptions<BackupOptions> options, IBackupStore store, BackupOperationLock operationLock,
        TimeProvider time,
        ILogger<BackupService> logger, IDatabaseDumper? dumper = null, IDatabaseRestorer? restorer = null,
            ArchiveSigner? signer = null, PostgresTarget? target = null, BackupCommitted? committed = null)
    {
        _committed = committed;
        _target = target;
        _signer = signer;
        _options = options.Value;
        _store = store;
        _lock = operationLock;
        _time = time;
        _logger = logger;
        _dumper = dumper;
        _restorer = restorer;
        _roots = _options.Paths.Select(FileRoot.From).ToList();
        _scanner = new FileTreeScanner(_options.Exclude);
    }

    public Task<IReadOnlyList<BackupInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_store.List());

    public string GetArchivePath(string filename) => _store.ResolveExisting(filename);

    public async Task<VerificationReport> VerifyAsync(string filename, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var archive = BackupArchiveReader.Open(_store.ResolveExisting(filename));
        return await archive.VerifyAsync(progress, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteAsync(string filename, string requestedBy, CancellationToken cancellationToken = default)
    {
        using var lease = _lock.Acquire("delete", requestedBy);
        _store.Delete(filename);
        _logger.LogInformation("Deleted backup {Backup} at the request of {User}", filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task SetPinnedAsync(string filename, bool pinned, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        _store.ResolveExisting(filename);
        _store.SetPinned(filename, pinned);
        _logger.LogInformation("{Action} backup {Backup} at the request of {User}", pinned ? "Pinned" : "Unpinned",
            filename, requestedBy);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RetentionDecision>> PruneAsync(bool dryRun, string requestedBy,
        CancellationToken cancellationToken = default)
    {
        if (dryRun) return Task.FromResult(RetentionPolicy.From(_options).Evaluate(_store.List(), _time.GetUtcNow()));
        using var lease = _lock.Acquire("prune", requestedBy);
        return Task.FromResult(ApplyRetention(null));
    }

    /// <summary>How far in the future an upload's date may be (clocks of two machines differ a little).</summary>
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public Task<BackupFolderStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var list = _store.List();
        var now = _time.GetUtcNow();
        // Freshness counts only backups this installation made: an upload (or a copy dated ahead) proves nothing about
        // today.
        var newest = list.FirstOrDefault(b => b.Readable && !b.Foreign && b.Trigger != BackupTrigger.Upload
            && b.CreatedAt <= now + MaxClockSkew);
        long free;
        try { free = new DriveInfo(_store.Directory).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { free = -1; }
        return Task.FromResult(new BackupFolderStatus(list.Count, _options.MaxBackups, list.Sum(b => b.Size), free,
            newest,
            DescribeUnfinishedRestore()));
    }

    /// <summary>A sentence for the health check when a restore journal outlived its operation; null while a restore is
    /// running or none is left.</summary>
    private string? DescribeUnfinishedRestore()
    {
        RestoreJournal? journal;
        try { journal = RestoreJournal.Load(_store.Directory); }
        catch (BackupException e) { return e.Message; }
        if (journal is null || _lock.SeemsBusy()) return null;
        if (journal.State != RestoreJournalState.Committed)
            return $"A restore of {journal.Backup} was interrupted. Restart BackupManager or run any app: command to "
                + $"finish or undo it.";
        var parked = ParkedState.From(journal).Describe();
        if (journal.SafetyBackup is not null)
            return $"The restore of {journal.Backup} and its safety backup {journal.SafetyBackup} are complete, but "
                + $"{parked} (the replaced state) are still there. Restart BackupManager or run any app: command to "
                + $"remove them.";
        return $"The restore of {journal.Backup} is complete, but the safety backup of the state it replaced is not "
            + $"written yet; that state is kept as {parked}. "
            + "Free space in the backup folder if it is full, then restart BackupManager or run any app: command to "
                + "write it.";
    }

    private IReadOnlyList<RetentionDecision> ApplyRetention(string? justCreated)
    {
        var decisions = RetentionPolicy.From(_options).Evaluate(_store.List(), _time.GetUtcNow(), justCreated);
        foreach (var decision in decisions.Where(d => !d.Keep))
        {
            try
            {
                _store.Delete(decision.Backup.Filename);
                _logger.LogInformation("Retention deleted {Backup}: {Reason}", decision.Backup.Filename,
                    decision.Reason);
            }
            catch (Exception e) when (e is IOException or BackupException)
            {
                _logger.LogWarning(e, "Retention could not delete {Backup}", decision.Backup.Filename);
            }
        }
        return decisions;
    }

    private string DescribeIo(IOException e) =>
        e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            ? $"the disk is full ({e.Message}). Free space in {_store.Directory} (delete old backups or move "
                + $"Backup__Directory) and try again."
            : e.Message;

    /// <summary>Moves a finished archive into the folder and tells this process's copier about it.</summary>
    private string Commit(string temp, DateTimeOffset createdAt)
    {
        var filename = _store.Commit(temp, createdAt);
        _committed?.Raise(filename);
        return filename;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { /* the next start removes leftovers */ }
    }

    private static string SafeFileName(string name) => UnsafeChars().Replace(name, "_");

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex UnsafeChars();
}
