using BackupManager.Core;
using BackupManager.Core.Audit;
using BackupManager.Core.Jobs;

namespace BackupManager.Web.Services;

/// <summary>
/// The quick backup operations (delete, pin, upload, download) with their audit entries, shared by the page and the
/// API so both record the same thing. Long ones (create, restore, copy now, fetch-then-restore, drill) go through
/// <see cref="BackupJobRunner"/>, which audits itself.
/// </summary>
public sealed class AuditedOperations(IBackupService backups, AuditLog audit,
    BackupManager.Core.Offsite.OffsiteService offsite)
{
    public async Task DeleteAsync(string filename, Actor actor, CancellationToken cancellationToken = default) =>
        await AuditAsync("delete", filename, actor, () => backups.DeleteAsync(filename, actor.Name, cancellationToken));

    public async Task SetPinnedAsync(string filename, bool pinned, Actor actor,
        CancellationToken cancellationToken = default) =>
        await AuditAsync(pinned ? "pin" : "unpin", filename, actor,
            () => backups.SetPinnedAsync(filename, pinned, actor.Name, cancellationToken));

    public async Task<BackupInfo> ImportAsync(Stream content, long maxBytes, Actor actor,
        CancellationToken cancellationToken = default)
    {
        BackupInfo? imported = null;
        await AuditAsync("upload", null, actor,
            async () => imported = await backups.ImportAsync(content, maxBytes, actor.Name, cancellationToken), ()
            => imported?.Filename);
        return imported!;
    }

    /// <summary>Resolves a download's path (validating the name) and records who fetched it.</summary>
    public string OpenDownload(string filename, Actor actor)
        => AuditOpen("download", filename, actor, () => backups.GetArchivePath(filename));

    /// <summary>A backup encrypted to the configured age recipients, streamed as it is read; records who fetched
    /// it.</summary>
    public (Stream Content, long Length) OpenEncryptedDownload(string filename, Actor actor)
        => AuditOpen("download-encrypted", filename, actor, () => offsite.OpenEncrypted(filename));

    /// <summary>Opens something for <paramref name="actor"/> and records it; a refusal is recorded with its
    /// reason.</summary>
    private T AuditOpen<T>(string action, string filename, Actor actor, Func<T> open)
    {
        try
        {
            var opened = open();
            audit.Record(actor.Name, actor.Address, action, filename, AuditOutcome.Succeeded);
            return opened;
        }
        catch (BackupException e)
        {
            audit.Record(actor.Name, actor.Address, action,
                BackupManager.Core.Storage.BackupFileName.Printable(filename), AuditOutcome.Refused, e.Message);
            throw;
        }
    }

    private async Task AuditAsync(string action, string? target, Actor actor, Func<Task> operation,
        Func<string?>? resultTarget = null)
    {
        var printable = target is null ? null : BackupManager.Core.Storage.BackupFileName.Printable(target);
        try
        {
            await operation();
            audit.Record(actor.Name, actor.Address, action, resultTarget?.Invoke() ?? printable,
                AuditOutcome.Succeeded);
        }
        catch (BackupException e)
        {
            audit.Record(actor.Name, actor.Address, action, printable,
                e.Kind is BackupErrorKind.Busy or BackupErrorKind.InvalidInput or BackupErrorKind.NotFound
                ? AuditOutcome.Refused : AuditOutcome.Failed, e.Message);
            throw;
        }
    }
}
