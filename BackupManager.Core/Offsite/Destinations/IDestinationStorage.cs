namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// The few operations the off-site format needs from a place to keep objects. Contract:
/// <list type="bullet">
/// <item><see cref="PutAsync"/> is atomic: a reader or a listing sees the whole object or nothing, also after the
/// process is killed midway (multipart upload completed or aborted; temp name + rename elsewhere).</item>
/// <item>Listings never show half-written objects.</item>
/// <item>Failures are <see cref="DestinationException"/> whose message names the destination, what failed and what to
/// do.</item>
/// </list>
/// Every implementation passes the same conformance suite (BackupManager.Tests/Offsite/Conformance), which states this
/// contract as tests.
/// </summary>
public interface IDestinationStorage : IAsyncDisposable
{
    /// <summary>Where it is, for messages: s3://bucket/prefix, sftp://user@host:port/path, or the folder.</summary>
    string Location { get; }
    /// <summary>Every object under <paramref name="prefix"/> ("" or a folder ending in '/'), with its full key, size
    /// and modification time (the sweep's grace period counts from it); nothing for a prefix that holds
    /// nothing.</summary>
    Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken);
    /// <summary>Stores exactly <paramref name="length"/> bytes under <paramref name="key"/>, replacing what was there
    /// only once they are all stored. A source that ends early or runs long is refused (a
    /// <see cref="DestinationException"/> saying "came out N bytes long instead of M"); a source that throws, or a
    /// cancellation, leaves the old object (or none) in place.</summary>
    Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken);
    /// <summary>As <see cref="PutAsync"/> (whole or nothing, also after a kill), but the object need be durable only
    /// after the next <see cref="FlushAsync"/>: a folder then pays one file-system flush for many objects instead of
    /// two fsyncs each. For an object that nothing refers to until that flush (a copy's pieces before its
    /// catalog).</summary>
    Task PutUnsyncedAsync(string key, Stream content, long length, CancellationToken cancellationToken) =>
        PutAsync(key, content, length, cancellationToken);
    /// <summary>Makes every object stored with <see cref="PutUnsyncedAsync"/> so far durable: a power cut after it
    /// loses none of them.</summary>
    Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    /// <summary>The object's bytes. A missing object is a <see cref="DestinationException"/> whose message says
    /// "&lt;key&gt; is missing".</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);
    /// <summary>Removes the object; removing one that is not there succeeds (retention and the sweep repeat what an
    /// interrupted run did).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
    /// <summary>Removes what interrupted uploads left (stale temp files, unfinished multipart uploads) older than
    /// <paramref name="olderThan"/>.</summary>
    Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken);
}
