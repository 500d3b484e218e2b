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
/// </summary>
public sealed class AuditLog(string backupDirectory, TimeProvider time, ILogger<AuditLog>? logger = null)
{
    public const string FileName = "audit.log";
    private readonly Lock _writeLock = new();

    private string PathName => Path.Combine(backupDirectory, FileName);

    public void Record(string actor, string? address, string action, string? target, string outcome, string? detail = null)
    {
        var entry = new AuditEntry(time.GetUtcNow(), actor, address, action, target, outcome, detail);
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, BackupJson.Compact);
        var bytes = new byte[line.Length + 1];
        line.CopyTo(bytes, 0);
        bytes[^1] = (byte)'\n';
        lock (_writeLock)
        {
            try
            {
                Directory.CreateDirectory(backupDirectory);
                // O_APPEND and one write per line: lines from several processes never interleave.
                using var stream = new FileStream(PathName, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger?.LogError(e, "The audit log {Path} could not be written; lost entry: {Entry}", PathName, Encoding.UTF8.GetString(line));
            }
        }
    }

    /// <summary>The newest entries first, skipping <paramref name="skip"/>; unreadable lines are skipped.</summary>
    public IReadOnlyList<AuditEntry> Read(int skip = 0, int take = 100)
    {
        if (!File.Exists(PathName)) return [];
        var lines = File.ReadAllLines(PathName, Encoding.UTF8);
        var result = new List<AuditEntry>(Math.Min(take, lines.Length));
        for (var i = lines.Length - 1 - skip; i >= 0 && result.Count < take; i--)
        {
            try
            {
                if (JsonSerializer.Deserialize<AuditEntry>(lines[i], BackupJson.Options) is { } entry) result.Add(entry);
            }
            catch (JsonException) { /* a torn last line after a crash */ }
        }
        return result;
    }

    public int Count() => File.Exists(PathName) ? File.ReadLines(PathName).Count() : 0;
}
