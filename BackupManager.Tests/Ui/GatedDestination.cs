using BackupManager.Core.Offsite.Destinations;

namespace BackupManager.Tests.Ui;

/// <summary>
/// A real destination whose listing (and reads of <c>.index</c> objects) wait for a gate the test opens: it holds a
/// copy or a fetch in mid-flight, so a test can look at the page while the job runs.
/// </summary>
public sealed class GatedDestination(IDestinationStorage inner, Task? listing = null, Task? indexReads = null)
    : IDestinationStorage
{
    public string Location => inner.Location;

    public async Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        if (listing is not null) await listing.WaitAsync(cancellationToken);
        return await inner.ListAsync(prefix, cancellationToken);
    }

    public Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        inner.PutAsync(key, content, length, cancellationToken);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        if (indexReads is not null && key.EndsWith(".index", StringComparison.Ordinal))
            await indexReads.WaitAsync(cancellationToken);
        return await inner.OpenReadAsync(key, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        inner.DeleteAsync(key, cancellationToken);

    public Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken) =>
        inner.RemoveLeftoversAsync(olderThan, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
