using BackupManager.Core.Offsite.Destinations;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// Wraps a real destination and injects what networks and disks do, as its <see cref="FaultPlan"/> says (restic's
/// error-injecting backend): the Nth call fails as a dropped connection does, an object is cut short on the way in or
/// out, a byte flips on the way out, or a call stalls until it is cancelled. Everything else goes to the real
/// destination untouched. Disposing it disposes the real one.
/// </summary>
public sealed class FaultyDestination(IDestinationStorage inner, FaultPlan plan) : IDestinationStorage
{
    public string Location => inner.Location;

    public async Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        await plan.StrikeAsync(DestinationCall.List, prefix, Location, cancellationToken).ConfigureAwait(false);
        return await inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false);
    }

    public Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        PutAsync(key, content, length, synced: true, cancellationToken);

    public Task PutUnsyncedAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        PutAsync(key, content, length, synced: false, cancellationToken);

    private async Task PutAsync(string key, Stream content, long length, bool synced,
        CancellationToken cancellationToken)
    {
        var fault = await plan.StrikeAsync(DestinationCall.Put, key, Location, cancellationToken).ConfigureAwait(false);
        if (fault is { Kind: FaultKind.TruncateWrite })
        {
            var keep = Math.Min(fault.Amount, length);
            (content, length) = (new FaultyReadStream(content, keep, null), keep);
        }
        await (synced ? inner.PutAsync(key, content, length, cancellationToken)
            : inner.PutUnsyncedAsync(key, content, length, cancellationToken)).ConfigureAwait(false);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await plan.StrikeAsync(DestinationCall.Flush, "", Location, cancellationToken).ConfigureAwait(false);
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var fault = await plan.StrikeAsync(DestinationCall.Read, key, Location, cancellationToken)
            .ConfigureAwait(false);
        var stream = await inner.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        return fault?.Kind switch
        {
            FaultKind.TruncateRead => new FaultyReadStream(stream, fault.Amount, null),
            FaultKind.FlipByteOnRead => new FaultyReadStream(stream, null, fault.Amount),
            _ => stream,
        };
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        await plan.StrikeAsync(DestinationCall.Delete, key, Location, cancellationToken).ConfigureAwait(false);
        await inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        await plan.StrikeAsync(DestinationCall.RemoveLeftovers, "", Location, cancellationToken).ConfigureAwait(false);
        return await inner.RemoveLeftoversAsync(olderThan, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
