using System.Security.Cryptography;

namespace BackupManager.Core.Archive;

/// <summary>
/// Passes bytes through to <see cref="Inner"/> (or just counts them when there is none) while computing SHA-256,
/// so content is hashed as it is written or read instead of in a second pass. With <c>withCrc32</c> it also computes
/// the CRC-32 a zip header needs; without <c>withSha256</c>, only that.
/// </summary>
internal sealed class HashingStream(Stream? inner, bool forRead, bool withCrc32 = false, bool withSha256 = true)
    : Stream
{
    // Made at the first byte: loading the crypto library then overlaps with the program that produces the bytes
    // (pg_dump's start).
    private IncrementalHash? _hash;
    private IncrementalHash Hash => withSha256 ? _hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256)
        : throw new InvalidOperationException("This stream was asked not to compute a SHA-256.");
    private readonly System.IO.Hashing.Crc32? _crc = withCrc32 ? new() : null;

    public Stream? Inner => inner;
    public long BytesHashed { get; private set; }

    public string HashHex() => Convert.ToHexStringLower(Hash.GetHashAndReset());

    public uint Crc32 => _crc?.GetCurrentHashAsUInt32()
        ?? throw new InvalidOperationException("This stream was not asked to compute a CRC-32.");

    public override bool CanRead => forRead;
    public override bool CanSeek => false;
    public override bool CanWrite => !forRead;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesHashed; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (withSha256) Hash.AppendData(buffer);
        _crc?.Append(buffer);
        BytesHashed += buffer.Length;
        inner?.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        if (withSha256) Hash.AppendData(buffer.Span);
        _crc?.Append(buffer.Span);
        BytesHashed += buffer.Length;
        if (inner is not null) await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner!.Read(buffer);
        if (withSha256) Hash.AppendData(buffer[..read]);
        _crc?.Append(buffer[..read]);
        BytesHashed += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (withSha256) Hash.AppendData(buffer.Span[..read]);
        _crc?.Append(buffer.Span[..read]);
        BytesHashed += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner?.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner?.FlushAsync(cancellationToken)
        ?? Task.CompletedTask;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash?.Dispose();
        base.Dispose(disposing);
    }
}
