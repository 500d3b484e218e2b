using System.Globalization;
using System.Text.Json;
using BackupManager.Core.Database;
using BackupManager.Core.IO;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Takes a base backup: <c>pg_basebackup --checkpoint=fast --manifest-checksums=SHA256 -X stream -Fp</c> into a
/// private temp folder inside <c>pitr/</c>, checks it with <c>pg_verifybackup</c>, records its WAL range, then
/// renames it to <c>pitr/base/&lt;UTC time&gt;</c> (so a listed base backup is always complete) and applies the
/// retention of <see cref="PitrRetention"/> when the operation lock is free (never under a running restore).
/// </summary>
public sealed class BaseBackup(PitrSource source, ExternalProcessRunner runner, TimeProvider time,
    Locking.BackupOperationLock operationLock, ILogger<BaseBackup> logger)
{
    /// <summary>Takes one; <paramref name="held"/>: the operation lock the caller holds (the scheduled run), under
    /// which retention runs too.</summary>
    public async Task<BaseBackupRecord> TakeAsync(CancellationToken cancellationToken,
        Locking.BackupOperationLock.Lease? held = null)
    {
        var layout = source.Layout;
        var temp = layout.NewTemp("base");
        try
        {
            var started = time.GetUtcNow();
            var arguments = source.ReplicationArguments();
            arguments.AddRange(["--pgdata", temp, "--checkpoint=fast", "--manifest-checksums=SHA256",
                "--wal-method=stream", "--format=plain", "--label=backupmanager"]);
            await RunAsync("pg_basebackup", arguments, cancellationToken).ConfigureAwait(false);
            var ended = time.GetUtcNow();
            await RunAsync("pg_verifybackup", ["--quiet", temp], cancellationToken).ConfigureAwait(false);
            var (startLsn, endLsn, timeline) = ReadWalRange(temp);
            var (version, segmentBytes) = await ReadServerAsync(cancellationToken).ConfigureAwait(false);
            var record = new BaseBackupRecord(startLsn, endLsn, timeline, started, ended, version, segmentBytes);
            AtomicFile.WriteAllBytes(Path.Combine(temp, PitrLayout.RecordFileName),
                JsonSerializer.SerializeToUtf8Bytes(record, BackupJson.Options));
            PrivateFiles.Tighten(temp);
            NativeFileSystem.SyncFileSystem(temp);
            var final = Path.Combine(layout.Base, started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'",
                CultureInfo.InvariantCulture));
            if (Directory.Exists(final)) final += "-" + Guid.NewGuid().ToString("N")[..4];
            Directory.Move(temp, final);
            NativeFileSystem.FsyncDirectory(layout.Base);
            logger.LogInformation("Base backup {Name} taken (WAL {Start} to {End})", Path.GetFileName(final),
                startLsn, endLsn);
            record = record with { Folder = final };
            // A point-in-time restore copying WAL holds the operation lock: retention never deletes under it.
            using (var lease = held is { IsHeld: true } ? null : operationLock.TryAcquire("pitr-retention",
                "base backup"))
            {
                if (lease is not null || held is { IsHeld: true })
                    PitrRetention.Apply(layout, source.Options.Pitr.KeepDays, time.GetUtcNow(), logger);
                else logger.LogInformation("PITR retention skipped: another backup operation is running; the next "
                    + "base backup applies it");
            }
            return record;
        }
        catch
        {
            TryDeleteFolder(temp);
            throw;
        }
    }

    private async Task RunAsync(string tool, List<string> arguments, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(new ExternalProcessRequest(source.Tool(tool), arguments)
        {
            Environment = source.Environment(),
            Timeout = source.Options.CommandTimeout,
        }, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode == 0) return;
        var failure = PgTools.Failure(tool, result, source.RequireTarget());
        throw new BackupException(failure.Kind, $"The base backup failed, nothing was kept: {failure.Message}"
            + (tool == "pg_basebackup" ? " The role needs REPLICATION and pg_hba.conf a 'replication' line (see "
                + "docs/backup-procedures.md)." : ""));
    }

    /// <summary>The WAL range from backup_manifest: what a restore needs from the WAL folder.</summary>
    private static (string Start, string End, uint Timeline) ReadWalRange(string folder)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "backup_manifest")));
        var range = manifest.RootElement.GetProperty("WAL-Ranges")[0];
        return (range.GetProperty("Start-LSN").GetString()!, range.GetProperty("End-LSN").GetString()!,
            range.GetProperty("Timeline").GetUInt32());
    }

    private async Task<(string Version, long SegmentBytes)> ReadServerAsync(CancellationToken cancellationToken)
    {
        var target = source.RequireTarget();
        await using var connection = await PgTools.OpenAsync(target, target.ConnectionString,
            cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version'), "
            + "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetString(0).Split(' ')[0], reader.GetInt64(1));
    }

    internal static void TryDeleteFolder(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* removed at the next run */ }
    }
}
