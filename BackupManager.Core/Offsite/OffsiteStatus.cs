using BackupManager.Core.Storage;

namespace BackupManager.Core.Offsite;

/// <summary>Each destination's state for the pages, the API and health: what it held at the last listing, what it
/// still lacks, and its last copy and check, from <c>.offsite-state.json</c>; nothing here reaches a
/// destination.</summary>
internal sealed class OffsiteStatus(OffsiteContext context)
{
    /// <summary>Each destination's last known state and the local backups it still lacks (from the last
    /// listing).</summary>
    public IReadOnlyList<DestinationStatus> GetStatus()
    {
        var all = context.State.ReadAll();
        var local = context.Store.List().Where(b => b.Readable).ToList();
        return context.DestinationNames.Select(name =>
        {
            var options = context.Options.Destinations[name];
            var state = all.GetValueOrDefault(name) ?? new DestinationState();
            // What the destination held at the last listing, dated by name where the local copy is gone.
            var held = state.Held.Select(h => local.FirstOrDefault(l => l.Filename == h)
                ?? new BackupInfo(h, 0, BackupFileName.TimeOf(h), BackupTrigger.Unknown, [], null, false, true, 0));
            var pending = context.Wanted(local, held.ToList(), options).OrderBy(b => b.CreatedAt).ToList();
            return new DestinationStatus(name, options.ParsedType?.ToString().ToLowerInvariant() ?? "?",
                Describe(name, options),
                context.Encrypts(options), options.NeverDelete, options.MaxLagHours, state,
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
        var now = context.Time.GetUtcNow();
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
            if (d.State.PitrFailures >= 3)
                checks.Add(new($"{check}:pitr", false, $"Point-in-time copies (WAL, base backups) to {d.Name} failed "
                    + $"{d.State.PitrFailures} times in a row: {d.State.PitrLastError} Until one succeeds a restore to "
                    + $"a time from {d.Name} lacks the newest WAL (it waits here). Fix what the error names, then run "
                    + $"app:check-destination {d.Name}; copies resume on their own."));
            if (!d.Encrypted && d.Type is "s3" or "sftp")
                checks.Add(new($"{check}:encryption", false,
                    $"{d.Name} receives the clinic's data unencrypted (AllowUnencrypted). Set "
                    + $"Backup__Encryption__Recipients__0 to the clinic's age1… key."));
        }
        return checks;
    }
}
