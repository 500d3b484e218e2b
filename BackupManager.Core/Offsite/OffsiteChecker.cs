using BackupManager.Core.Archive;
using BackupManager.Core.Offsite.Destinations;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>The check of a destination: every catalog's index and objects present with their recorded sizes, and a
/// rotating sample read back against the SHA-256 recorded at upload. Problems go to the report and the state.</summary>
internal sealed class OffsiteChecker(OffsiteContext context)
{
    /// <summary>
    /// Checks that every catalog's index and objects are present with the recorded sizes, and re-downloads a rotating
    /// sample (at least 1/7 of the objects and up to <paramref name="sampleBytes"/>, continuing where the last check
    /// stopped, so a week of daily checks reads everything) comparing each with the SHA-256 recorded at upload.
    /// </summary>
    public async Task<CheckReport> CheckAsync(string destination, long sampleBytes = 1L << 30,
        CancellationToken cancellationToken = default)
    {
        var (name, options) = context.Destination(destination);
        var problems = new List<string>();
        int sampled = 0, objectCount = 0, backups = 0;
        long sampledBytes = 0;
        try
        {
            using var guard = context.DestinationLock(name);
            await using var storage = context.Open(name, options);
            var remote = await RemoteView.ReadAsync(name, storage, context.Logger,
                cancellationToken).ConfigureAwait(false);
            backups = remote.Catalogs.Count;
            foreach (var key in remote.Objects.Keys.Where(k => OffsiteFormat.FilenameOfCatalog(k) is { } f
                && !remote.Catalogs.ContainsKey(f)))
                problems.Add($"The catalog {key} is unreadable.");
            var recorded = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            foreach (var catalog in remote.Catalogs.Values.OrderBy(c => c.Filename, StringComparer.Ordinal))
            {
                foreach (var o in catalog.Objects.Prepend(catalog.Index))
                {
                    recorded.TryAdd(o.Key, o);
                    if (!remote.Objects.TryGetValue(o.Key,
                        out var present)) problems.Add($"{catalog.Filename}: {o.Key} is missing.");
                    else if (present.Size != o.Size) problems.Add(
                        $"{catalog.Filename}: {o.Key} is {present.Size:N0} bytes instead of {o.Size:N0}.");
                }
            }
            objectCount = recorded.Count;
            var keys = recorded.Keys.ToList();
            var state = context.State.Read(name);
            var start = keys.Count == 0 ? 0 : state.SampleCursor % keys.Count;
            var minimum = (keys.Count + 6) / 7;
            var position = start;
            while (sampled < keys.Count && (sampled < minimum || sampledBytes < sampleBytes))
            {
                var o = recorded[keys[position]];
                position = (position + 1) % keys.Count;
                sampled++;
                if (!remote.Objects.ContainsKey(o.Key)) continue;
                sampledBytes += o.Size;
                try
                {
                    await using var stream = await storage.OpenReadAsync(o.Key,
                        cancellationToken).ConfigureAwait(false);
                    var hashing = new HashingStream(stream, forRead: true);
                    await hashing.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                    if (hashing.BytesHashed != o.Size
                        || hashing.HashHex() != o.Sha256) problems.Add(
                        $"{o.Key} is damaged: its SHA-256 differs from the one recorded at upload.");
                }
                catch (DestinationException e) { problems.Add(e.Message); }
            }
            var problemList = problems.ToList();
            context.State.Update(name,
                s => s with { LastCheckAt = context.Time.GetUtcNow(), CheckProblems = problemList,
                    SampleCursor = position, Held = remote.Catalogs.Keys.Order(StringComparer.Ordinal).ToList() });
        }
        catch (DestinationException e)
        {
            problems.Add(e.Message);
            var problemList = problems.ToList();
            context.State.Update(name,
                s => s with { LastCheckAt = context.Time.GetUtcNow(), CheckProblems = problemList });
        }
        if (problems.Count > 0) context.Logger.LogWarning("Check of {Destination} found {Count} problem(s): {First}",
            name, problems.Count, problems[0]);
        return new CheckReport(name, backups, objectCount, sampled, sampledBytes, problems);
    }
}
