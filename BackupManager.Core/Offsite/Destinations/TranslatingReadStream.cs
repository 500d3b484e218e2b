namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// A download whose failures mid-read reach the caller as the destination's own error (a server that stopped
/// answering, a dropped connection) instead of the client library's exception type. A read that failed or was
/// cancelled calls <paramref name="abandon"/>, so its close does not wait on a server that may be silent.
/// </summary>
internal sealed class TranslatingReadStream(Stream inner, Func<Exception, Exception?> translate, Action abandon)
    : Core.IO.ReadOnlyStream
{
    public override long Length => inner.Length;

    public override int Read(Span<byte> buffer)
    {
        try { return inner.Read(buffer); }
        catch (Exception e) when (Failed(e) is { } translated) { throw translated; }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (Failed(e) is { } translated) { throw translated; }
    }

    /// <summary>The destination's error for <paramref name="e"/>, or null to let it pass as it is.</summary>
    private Exception? Failed(Exception e)
    {
        if (e is OperationCanceledException) abandon();
        return translate(e);
    }

    // A read-only handle: its close failing loses nothing (what was read is checked against its hash), and after a
    // failed read the connection is closed anyway.
    protected override void Dispose(bool disposing)
    {
        try { if (disposing) inner.Dispose(); }
        catch (Exception) { /* see above */ }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        try { await inner.DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { /* see above */ }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
