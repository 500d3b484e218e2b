using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.Pitr;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite.Pitr;

/// <summary>
/// Sends point-in-time recovery's data to every destination in the <see cref="PitrOffsiteFormat"/>, encrypted to the
/// backups' recipients: each completed WAL segment and each base backup once (what a destination holds, by name, is
/// not sent again), the segment being written at most every <c>Backup__Pitr__OffsitePartialSeconds</c> while it
/// changes, then the retention of the local window (<see cref="PitrOffsiteRetention"/>). A destination's failure is
/// reported and kept in its state (Pitr* fields), never thrown.
/// </summary>
public sealed class PitrOffsiteCopier(OffsiteService offsite, PitrSource source, ILogger<PitrOffsiteCopier> logger)
{
    /// <summary>How long a listing of a destination is trusted before it is read again (and retention runs).</summary>
    internal static readonly TimeSpan Refresh = TimeSpan.FromHours(1);
    private readonly Dictionary<string, Remote> _remote = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _one = new(1, 1);

    private sealed class Remote
    {
        public HashSet<string>? Keys;
        public DateTimeOffset ListedAt;
        public DateTimeOffset PartialSentAt;
        public string? PartialSent;
    }

    /// <summary>One round for every destination. <paramref name="now"/>: send the partial segment and read every
    /// listing again regardless of their timers (the console and tests).</summary>
    public async Task<IReadOnlyList<PitrCopyReport>> CopyAsync(bool now, CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var reports = new List<PitrCopyReport>();
            foreach (var name in offsite.DestinationNames)
                reports.Add(await CopyToAsync(name, now, cancellationToken).ConfigureAwait(false));
            return reports;
        }
        finally { _one.Release(); }
    }

    /// <summary>One round for <paramref name="destination"/> alone (the worker's backoff is per destination).</summary>
    public async Task<PitrCopyReport> CopyAsync(string destination, bool now, CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { return await CopyToAsync(destination, now, cancellationToken).ConfigureAwait(false); }
        finally { _one.Release(); }
    }

    private async Task<PitrCopyReport> CopyToAsync(string name, bool now, CancellationToken cancellationToken)
    {
        var context = offsite.Context;
        var options = context.Destination(name).Options;
        var sent = new List<string>();
        var removed = new List<string>();
        if (!_remote.TryGetValue(name, out var remote)) _remote[name] = remote = new Remote();
        try
        {
            var layout = source.Layout;
            var bases = BaseBackupRecord.List(layout.Base);
            var bytes = bases.Count > 0 ? bases[^1].WalSegmentBytes : 16L << 20;
            var wal = WalSegment.List(layout.Wal, bytes);
            var encrypted = context.Encrypts(options);
            var time = context.Time.GetUtcNow();
            var listing = now || remote.Keys is null || time - remote.ListedAt > Refresh;
            var partial = wal.LastOrDefault(s => s.Partial) is { } p && !wal.Any(s => !s.Partial
                && s.Timeline == p.Timeline && s.Number == p.Number) ? p : null;
            var partialSignature = partial is null ? null
                : $"{Path.GetFileName(partial.Path)}|{new FileInfo(partial.Path).Length}|{partial.WrittenUtc.Ticks}";
            var partialDue = partial is not null && partialSignature != remote.PartialSent && (now
                || time - remote.PartialSentAt >= TimeSpan.FromSeconds(source.Options.Pitr.OffsitePartialSeconds));
            bool Missing(string key) => remote.Keys is null || !remote.Keys.Contains(key);
            if (!listing && !partialDue && !wal.Any(s => !s.Partial && Missing(WalKeyOf(s, encrypted)))
                && !bases.Any(b => Missing(PitrOffsiteFormat.RecordKey(b.Name))))
                return new PitrCopyReport(name, sent, removed, null);
            using var guard = context.DestinationLock("pitr-" + name);
            await using var storage = context.Open(name, options);
            if (listing)
            {
                remote.Keys = (await storage.ListAsync(PitrOffsiteFormat.Prefix, cancellationToken)
                    .ConfigureAwait(false)).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
                remote.ListedAt = time;
            }
            var keys = remote.Keys!;
            foreach (var segment in wal.Where(s => !s.Partial && !keys.Contains(WalKeyOf(s, encrypted))))
            {
                await SendFileAsync(storage, segment.Path, WalKeyOf(segment, encrypted), encrypted, cancellationToken)
                    .ConfigureAwait(false);
                keys.Add(WalKeyOf(segment, encrypted));
                sent.Add(Path.GetFileName(segment.Path));
                var stalePartial = PitrOffsiteFormat.WalKey(PitrOffsiteFormat.PartialName(
                    Path.GetFileName(segment.Path)), encrypted);
                if (keys.Remove(stalePartial))
                    await storage.DeleteAsync(stalePartial, cancellationToken).ConfigureAwait(false);
            }
            foreach (var record in bases.Where(b => !keys.Contains(PitrOffsiteFormat.RecordKey(b.Name))))
            {
                await SendBaseAsync(storage, record, encrypted, cancellationToken).ConfigureAwait(false);
                keys.Add(PitrOffsiteFormat.RecordKey(record.Name));
                sent.Add(record.Name);
            }
            if (partialDue && await SendPartialAsync(storage, partial!, keys, encrypted, cancellationToken)
                .ConfigureAwait(false))
            {
                remote.PartialSent = partialSignature;
                remote.PartialSentAt = context.Time.GetUtcNow(); // the interval counts from the copy, not the round
                sent.Add(Path.GetFileName(partial!.Path));
            }
            if (listing && !options.NeverDelete && bases.Count > 0)
                removed.AddRange(await PitrOffsiteRetention.ApplyAsync(storage, keys, bases[0], cancellationToken)
                    .ConfigureAwait(false));
            context.State.Update(name, st => st with
                { PitrLastSuccessAt = time, PitrLastError = null, PitrFailures = 0 });
            if (sent.Count + removed.Count > 0)
                logger.LogInformation("Point-in-time copy to {Destination}: sent {Sent}; removed {Removed}", name,
                    string.Join(", ", sent), removed.Count == 0 ? "nothing" : string.Join(", ", removed));
            return new PitrCopyReport(name, sent, removed, null);
        }
        catch (Exception e) when (e is DestinationException or BackupException or IOException or AgeException
            or UnauthorizedAccessException)
        {
            remote.Keys = null; // read the listing again next time: an interrupted upload may or may not be there
            var message = e is DestinationException or BackupException ? e.Message
                : $"{name}: the point-in-time copy failed: {e.Message}";
            var state = context.State.Update(name, st => st with
                { PitrLastError = message, PitrFailures = st.PitrFailures + 1 });
            logger.LogWarning("Point-in-time copy to {Destination} failed ({Failures} in a row): {Message}", name,
                state.PitrFailures, message);
            return new PitrCopyReport(name, sent, removed, message);
        }
    }

    private static string WalKeyOf(WalSegment segment, bool encrypted) =>
        PitrOffsiteFormat.WalKey(Path.GetFileName(segment.Path), encrypted);

    private async Task SendFileAsync(IDestinationStorage storage, string path, string key, bool encrypted,
        CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            1 << 20, FileOptions.SequentialScan);
        await PutAsync(storage, key, file, file.Length, encrypted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The base backup's tar goes first, its record last (then it counts as there).</summary>
    private async Task SendBaseAsync(IDestinationStorage storage, BaseBackupRecord record, bool encrypted,
        CancellationToken cancellationToken)
    {
        var work = source.Layout.NewTemp("offsite");
        try
        {
            var tar = Path.Combine(work, record.Name + ".tar.gz");
            await BaseBackupTar.PackAsync(record.Folder, tar, cancellationToken).ConfigureAwait(false);
            await SendFileAsync(storage, tar, PitrOffsiteFormat.BaseKey(record.Name, encrypted), encrypted,
                cancellationToken).ConfigureAwait(false);
            var json = await File.ReadAllBytesAsync(Path.Combine(record.Folder, PitrLayout.RecordFileName),
                cancellationToken).ConfigureAwait(false);
            await storage.PutAsync(PitrOffsiteFormat.RecordKey(record.Name), new MemoryStream(json), json.Length,
                cancellationToken).ConfigureAwait(false);
        }
        finally { BaseBackup.TryDeleteFolder(work); }
    }

    /// <summary>Replaces the destination's copy of the segment being written (a snapshot of its bytes), then removes
    /// older partial copies. False when the receiver completed it meanwhile (the next round sends the
    /// segment).</summary>
    private async Task<bool> SendPartialAsync(IDestinationStorage storage, WalSegment partial, HashSet<string> keys,
        bool encrypted, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try { bytes = await File.ReadAllBytesAsync(partial.Path, cancellationToken).ConfigureAwait(false); }
        catch (FileNotFoundException) { return false; }
        var key = WalKeyOf(partial, encrypted);
        await PutAsync(storage, key, new MemoryStream(bytes), bytes.Length, encrypted, cancellationToken)
            .ConfigureAwait(false);
        keys.Add(key);
        foreach (var old in keys.Where(k => k != key && PitrOffsiteFormat.SegmentOf(k, 16L << 20) is
            { Partial: true }).ToList())
        {
            await storage.DeleteAsync(old, cancellationToken).ConfigureAwait(false);
            keys.Remove(old);
        }
        return true;
    }

    private async Task PutAsync(IDestinationStorage storage, string key, Stream plaintext, long length,
        bool encrypted, CancellationToken cancellationToken)
    {
        await using var body = encrypted
            ? AgeFormat.Encrypt(plaintext, length, offsite.Context.Recipients) : plaintext;
        await storage.PutAsync(key, body, encrypted ? body.Length : length, cancellationToken).ConfigureAwait(false);
    }
}
