using System.Security.Cryptography;

namespace BackupManager.Core.Offsite.Age;

/// <summary>
/// Pulls plaintext and yields the age file (header, nonce, then 64 KiB STREAM chunks), so that an upload or an HTTP
/// response can read it without a temporary copy. The plaintext must be exactly the declared length: a source that
/// ends early (a file that shrank) is an error rather than a short file.
/// </summary>
internal sealed class AgeEncryptingStream : AgeStream
{
    private readonly long _plaintextLength;
    private readonly long _chunks;
    private readonly byte[] _plain = new byte[AgeFormat.ChunkSize];
    private byte[] _out;
    private int _outPosition, _outLength;
    private long _counter, _position;

    public AgeEncryptingStream(Stream source, long plaintextLength, IReadOnlyList<AgeRecipient> recipients,
        bool leaveOpen) : base(source, leaveOpen)
    {
        _plaintextLength = plaintextLength;
        var (header, payloadKey, nonce) = AgeFormat.NewHeader(recipients);
        _aead = new ChaCha20Poly1305(payloadKey);
        _chunks = Math.Max(1, (plaintextLength + AgeFormat.ChunkSize - 1) / AgeFormat.ChunkSize);
        Length = AgeFormat.EncryptedLength(plaintextLength, header.Length);
        _out = new byte[Math.Max(header.Length + 16, AgeFormat.ChunkSize + AgeFormat.TagSize)];
        header.CopyTo(_out, 0);
        nonce.CopyTo(_out, header.Length);
        _outLength = header.Length + 16;
    }

    public override long Length { get; }
    public override long Position { get => _position; set => throw new NotSupportedException(); }


    /// <summary>Fills as much of <paramref name="buffer"/> as it can, chunk after chunk, so a writer gets large writes
    /// without a buffer of its own.</summary>
    public override int Read(Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            if (_outPosition == _outLength && !NextChunk(() => _source.ReadAtLeast(_plain, ChunkLength(),
                throwOnEndOfStream: false))) break;
            total += Take(buffer[total..]);
        }
        return total;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            if (_outPosition == _outLength)
            {
                if (_counter >= _chunks) break;
                var read = await _source.ReadAtLeastAsync(_plain.AsMemory(0, ChunkLength()), ChunkLength(),
                    throwOnEndOfStream: false, cancellationToken);
                NextChunk(() => read);
            }
            total += Take(buffer.Span[total..]);
        }
        return total;
    }

    private int ChunkLength() => (int)Math.Min(AgeFormat.ChunkSize, _plaintextLength - _counter * AgeFormat.ChunkSize);

    private bool NextChunk(Func<int> fill)
    {
        if (_counter >= _chunks) return false;
        var length = ChunkLength();
        if (fill() != length) throw new IOException(
            "The content ended before its recorded length while it was being encrypted (was it changed meanwhile?).");
        Span<byte> nonce = stackalloc byte[12];
        AgeFormat.ChunkNonce(nonce, _counter, last: _counter == _chunks - 1);
        _aead.Encrypt(nonce, _plain.AsSpan(0, length), _out.AsSpan(0, length), _out.AsSpan(length, AgeFormat.TagSize));
        (_outPosition, _outLength) = (0, length + AgeFormat.TagSize);
        _counter++;
        return true;
    }

    private int Take(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _outLength - _outPosition);
        _out.AsSpan(_outPosition, n).CopyTo(buffer);
        _outPosition += n;
        _position += n;
        return n;
    }


}
