using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Audit;

/// <summary>
/// The append-only audit log in the backup folder: one JSON object per line. It lives beside the backups, outside the
/// database a restore replaces, so a restore never erases the record of itself. Two files, each rotated by size
/// (<c>name.1</c> … the oldest is dropped) so neither can fill the backup volume: <c>audit.log</c> holds what
/// signed-in people, tokens, schedules and the console did (<see cref="Record"/>); <c>audit-refused.log</c> holds
/// refusals that anyone on the network can cause — failed sign-ins, refused API calls (<see cref="RecordRefusal"/>)
/// —
/// so no amount of anonymous traffic rotates the record of real actions away. <see cref="Read"/> shows both, merged
/// newest first. Contract: a record only ever appends one whole line and flushes it to disk; <see cref="Record"/>
/// returns once it is there, <see cref="RecordAsync"/>'s task completes then. Concurrent records share one write and
/// one fsync (<see cref="AuditFile"/>). Neither throws: a log that cannot be written is reported to the application
/// log, and the audited operation's own outcome stands.
/// </summary>
public sealed class AuditLog(string backupDirectory, TimeProvider time, ILogger<AuditLog>? logger = null,
    long maxFileBytes = AuditLog.DefaultMaxFileBytes, int keepFiles = AuditLog.DefaultKeepFiles,
    Action<FileStream>? sync = null)
{
    public const string FileName = "audit.log";
    public const string RefusalsFileName = "audit-refused.log";
    public const long DefaultMaxFileBytes = 16L << 20;
    public const int DefaultKeepFiles = 8;

    private readonly AuditFile _actions = new(backupDirectory, FileName, maxFileBytes, keepFiles, logger, sync);
    private readonly AuditFile _refusals = new(backupDirectory, RefusalsFileName, maxFileBytes, keepFiles, logger,
        sync);

    /// <summary>The actor (an attempted e-mail address, say) and every other field are cut to these lengths, so one
    /// anonymous request cannot grow the log by a megabyte.</summary>
    public const int MaxActorLength = 256, MaxFieldLength = 1024;

    /// <summary>Records what a known actor did or was refused (signed in, a token, a schedule, the console); returns
    /// once the line is on disk.</summary>
    public void Record(string actor, string? address, string action, string? target, string outcome,
        string? detail = null) =>
        RecordAsync(actor, address, action, target, outcome, detail).GetAwaiter().GetResult();

    /// <summary>As <see cref="Record"/>, without holding a thread: the task completes once the line is on disk (it
    /// never faults). A caller that does not await it still gets its line written, in order, moments later.</summary>
    public Task RecordAsync(string actor, string? address, string action, string? target, string outcome,
        string? detail = null) =>
        _actions.Append(Line(actor, address, action, target, outcome, detail));

    /// <summary>Records a refusal anyone on the network can cause (a failed sign-in, a refused API call).</summary>
    public void RecordRefusal(string actor, string? address, string action, string? target, string outcome,
        string? detail = null) =>
        _refusals.Append(Line(actor, address, action, target, outcome, detail)).GetAwaiter().GetResult();

    private byte[] Line(string actor, string? address, string action, string? target, string outcome, string? detail)
    {
        var entry = new AuditEntry(time.GetUtcNow(), Cap(actor, MaxActorLength)!, Cap(address, MaxFieldLength),
            Cap(action, MaxFieldLength)!,
            Cap(target, MaxFieldLength), Cap(outcome, MaxFieldLength)!, Cap(detail, MaxFieldLength));
        return JsonSerializer.SerializeToUtf8Bytes(entry, BackupJson.Compact);
    }

    private static string? Cap(string? value,
        int max) => value is null || value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…[cut]");

    /// <summary>The newest entries of both files first, after <paramref name="skip"/>; unreadable lines are
    /// skipped.</summary>
    public IReadOnlyList<AuditEntry> Read(int skip = 0, int take = 100)
    {
        var result = new List<AuditEntry>(Math.Min(take, 1024));
        if (take <= 0) return result;
        using var actions = _actions.NewestFirst().GetEnumerator();
        using var refusals = _refusals.NewestFirst().GetEnumerator();
        var hasAction = actions.MoveNext();
        var hasRefusal = refusals.MoveNext();
        while (hasAction || hasRefusal)
        {
            AuditEntry next;
            if (hasAction && (!hasRefusal || actions.Current.At >= refusals.Current.At))
            {
                next = actions.Current;
                hasAction = actions.MoveNext();
            }
            else
            {
                next = refusals.Current;
                hasRefusal = refusals.MoveNext();
            }
            if (skip > 0) { skip--; continue; }
            result.Add(next);
            if (result.Count >= take) break;
        }
        return result;
    }

    public int Count() => _actions.Count() + _refusals.Count();
}
