namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// A download whose failures mid-read reach the caller as the destination's own error (a server that stopped
/// answering, a dropped connection) instead of the client library's exception type.
/// </summary>
internal sealed class TranslatingReadStream(Stream inner, Func<Exception, Exception?> translate)
    : Core.IO.ReadOnlyStream
{
    public override long Length => inner.Length;

    public override int Read(Span<byte> buffer)
    {
        try { return inner.Read(buffer); }
        catch (Exception e) when (translate(e) is { } translated) { throw translated; }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (translate(e) is { } translated) { throw translated; }
    }

    // A close after a failed read asks a server that stopped answering: the connection is abandoned, and the handle
    // with it, so its failure is not the one to report.
    protected override void Dispose(bool disposing)
    {
        try { if (disposing) inner.Dispose(); }
        catch (Exception e) when (translate(e) is not null) { }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        try { await inner.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) when (translate(e) is not null) { }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
