using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Audit;

/// <summary>One line of the audit log: who did what, when, from where, and how it ended.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string? Address, string Action, string? Target, string Outcome, string? Detail = null);

/// <summary>Outcomes used in audit entries.</summary>
public static class AuditOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Refused = "refused";
    public const string Started = "started";
}

/// <summary>
/// The append-only audit log, <c>audit.log</c> in the backup folder: one JSON object per line. It lives beside the
/// backups, outside the database a restore replaces, so a restore never erases the record of itself. Contract:
/// <see cref="Record"/> only ever appends one whole line and flushes it to disk. It never throws: a log that cannot
/// be written (full disk, permissions) is reported to the application log, and the audited operation's own outcome
/// stands — a finished backup must not be reported as failed because its audit line could not be written.
/// The log rotates by size (<c>audit.log.1</c> … the oldest is dropped), so it cannot fill the backup volume, and
/// <see cref="Read"/> reads files backwards from their end, so the newest entries cost the same however long the log.
/// </summary>
public sealed class AuditLog(string backupDirectory, TimeProvider time, ILogger<AuditLog>? logger = null,
    long maxFileBytes = AuditLog.DefaultMaxFileBytes, int keepFiles = AuditLog.DefaultKeepFiles)
{
    public const string FileName = "audit.log";
    public const long DefaultMaxFileBytes = 16L << 20;
    public const int DefaultKeepFiles = 8;
    private readonly Lock _writeLock = new();

    private string PathName => Path.Combine(backupDirectory, FileName);

    /// <summary>audit.log, then audit.log.1, … newest first.</summary>
    private IEnumerable<string> FilesNewestFirst() =>
        Enumerable.Range(0, Math.Max(1, keepFiles)).Select(i => i == 0 ? PathName : $"{PathName}.{i}");

    /// <summary>The actor (an attempted e-mail address, say) and every other field are cut to these lengths, so one anonymous request cannot grow the log by a megabyte.</summary>
    public const int MaxActorLength = 256, MaxFieldLength = 1024;

    public void Record(string actor, string? address, string action, string? target, string outcome, string? detail = null)
    {
        var entry = new AuditEntry(time.GetUtcNow(), Cap(actor, MaxActorLength)!, Cap(address, MaxFieldLength), Cap(action, MaxFieldLength)!,
            Cap(target, MaxFieldLength), Cap(outcome, MaxFieldLength)!, Cap(detail, MaxFieldLength));
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, BackupJson.Compact);
        var bytes = new byte[line.Length + 1];
        line.CopyTo(bytes, 0);
        bytes[^1] = (byte)'\n';
        lock (_writeLock)
        {
            try
            {
                Directory.CreateDirectory(backupDirectory);
                RotateIfFull(bytes.Length);
                // O_APPEND and one write per line: lines from several processes never interleave.
                using var stream = new FileStream(PathName, Storage.PrivateFiles.Create(FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger?.LogError(e, "The audit log {Path} could not be written; lost entry: {Entry}", PathName, Encoding.UTF8.GetString(line));
            }
        }
    }

    private void RotateIfFull(int adding)
    {
        var current = new FileInfo(PathName);
        if (!current.Exists || current.Length + adding <= maxFileBytes) return;
        var files = FilesNewestFirst().ToList();
        try
        {
            if (files.Count == 1) { File.Delete(PathName); return; }
            File.Delete(files[^1]);
            for (var i = files.Count - 2; i >= 0; i--)
                if (File.Exists(files[i])) File.Move(files[i], files[i + 1]);
        }
        catch (IOException)
        {
            // Another process rotated at the same moment; appending to whichever file is current is what matters.
        }
    }

    private static string? Cap(string? value, int max) => value is null || value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…[cut]");

    /// <summary>The newest entries first, skipping <paramref name="skip"/>; unreadable lines are skipped.</summary>
    public IReadOnlyList<AuditEntry> Read(int skip = 0, int take = 100)
    {
        var result = new List<AuditEntry>(Math.Min(take, 1024));
        foreach (var file in FilesNewestFirst())
        {
            if (!File.Exists(file)) break;
            foreach (var line in LinesFromTheEnd(file))
            {
                AuditEntry? entry;
                try { entry = JsonSerializer.Deserialize<AuditEntry>(line, BackupJson.Options); }
                catch (JsonException) { continue; } // a torn last line after a crash
                if (entry is null) continue;
                if (skip > 0) { skip--; continue; }
                result.Add(entry);
                if (result.Count >= take) return result;
            }
        }
        return result;
    }

    public int Count() => FilesNewestFirst().Where(File.Exists).Sum(f => File.ReadLines(f).Count());

    /// <summary>The lines of a file from its last to its first, read in 64 KiB blocks from the end.</summary>
    private static IEnumerable<string> LinesFromTheEnd(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var block = new byte[64 << 10];
        var pending = new List<byte>(); // the start of a line whose end was read already, in reverse order
        for (var position = stream.Length; position > 0;)
        {
            var size = (int)Math.Min(block.Length, position);
            position -= size;
            stream.Position = position;
            stream.ReadExactly(block, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                if (block[i] == (byte)'\n')
                {
                    if (pending.Count > 0) yield return Decode(pending);
                    pending.Clear();
                }
                else pending.Add(block[i]);
            }
        }
        if (pending.Count > 0) yield return Decode(pending);
    }

    private static string Decode(List<byte> reversed)
    {
        var bytes = reversed.ToArray();
        Array.Reverse(bytes);
        return Encoding.UTF8.GetString(bytes);
    }
}
