using System.Security.Cryptography;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Offsite.Age;

/// <summary>The source stream and the payload cipher both age streams hold, and their disposal.</summary>
internal abstract class AgeStream(Stream source, bool leaveOpen) : ReadOnlyStream
{
    protected readonly Stream _source = source;
    protected ChaCha20Poly1305 _aead = null!; // set once the header is written or read

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aead?.Dispose();
            if (!leaveOpen) _source.Dispose();
        }
        base.Dispose(disposing);
    }
}

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


    public override int Read(Span<byte> buffer)
    {
        if (_outPosition == _outLength && !NextChunk(() => _source.ReadAtLeast(_plain, ChunkLength(),
            throwOnEndOfStream: false))) return 0;
        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_outPosition == _outLength)
        {
            if (_counter >= _chunks) return 0;
            var read = await _source.ReadAtLeastAsync(_plain.AsMemory(0, ChunkLength()), ChunkLength(),
                throwOnEndOfStream: false, cancellationToken);
            NextChunk(() => read);
        }
        return Take(buffer.Span);
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

/// <summary>
/// Reads an age file and yields its plaintext chunk by chunk; each chunk is released only after its tag checked, and
/// a missing final chunk, a second final chunk or trailing bytes are errors (<see cref="AgeFailure.Payload"/>).
/// The header is read and checked on construction.
/// </summary>
internal sealed class AgeDecryptingStream : AgeStream
{
    private const int SealedChunk = AgeFormat.ChunkSize + AgeFormat.TagSize;
    // Sealed bytes read ahead: one full chunk plus one byte, to know whether the chunk is the last.
    private readonly byte[] _in = new byte[SealedChunk + 1];
    private int _inStart, _inLength;
    private readonly byte[] _plain = new byte[AgeFormat.ChunkSize];
    private int _plainPosition, _plainLength;
    private long _counter;
    private bool _done, _sourceEnded;
    private AgeException? _pendingError;

    public AgeDecryptingStream(Stream source, IReadOnlyList<AgeIdentity> identities, bool leaveOpen) : base(source,
        leaveOpen)
    {
        var payloadKey = AgeFormat.ReadHeader(ReadHeaderByte, identities);
        _aead = new ChaCha20Poly1305(payloadKey);
    }

    private int ReadHeaderByte()
    {
        if (_inLength == 0)
        {
            if (_sourceEnded) return -1;
            _inStart = 0;
            _inLength = _source.Read(_in, 0, 4096);
            if (_inLength == 0) { _sourceEnded = true; return -1; }
        }
        _inLength--;
        return _in[_inStart++];
    }



    public override int Read(Span<byte> buffer)
    {
        if (_plainPosition == _plainLength)
        {
            if (_pendingError is not null) throw _pendingError;
            if (_done) return 0;
            Compact();
            while (!_sourceEnded && _inLength < _in.Length)
            {
                var n = _source.Read(_in, _inLength, _in.Length - _inLength);
                if (n == 0) _sourceEnded = true;
                _inLength += n;
            }
            OpenChunk();
            if (_plainLength == 0) return 0;
        }
        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_plainPosition == _plainLength)
        {
            if (_pendingError is not null) throw _pendingError;
            if (_done) return 0;
            Compact();
            while (!_sourceEnded && _inLength < _in.Length)
            {
                var n = await _source.ReadAsync(_in.AsMemory(_inLength, _in.Length - _inLength), cancellationToken);
                if (n == 0) _sourceEnded = true;
                _inLength += n;
            }
            OpenChunk();
            if (_plainLength == 0) return 0;
        }
        return Take(buffer.Span);
    }


    private void Compact()
    {
        if (_inStart > 0 && _inLength > 0) Buffer.BlockCopy(_in, _inStart, _in, 0, _inLength);
        _inStart = 0;
    }

    private void OpenChunk()
    {
        if (_pendingError is not null) throw _pendingError;
        var sealedLength = Math.Min(_inLength, SealedChunk);
        if (sealedLength < AgeFormat.TagSize) throw new AgeException(AgeFailure.Payload,
            "the age payload is truncated (a chunk is shorter than its tag)");
        var plainLength = sealedLength - AgeFormat.TagSize;
        var more = _inLength > SealedChunk;
        // Like the reference implementation: a full chunk is tried as a middle chunk first, then as the last one.
        bool last;
        if (sealedLength == SealedChunk && TryOpen(plainLength, last: false)) last = false;
        else if (TryOpen(plainLength, last: true)) last = true;
        else throw new AgeException(AgeFailure.Payload, more || sealedLength == SealedChunk
            ? "the age payload is damaged (a chunk does not authenticate)"
            : "the age payload is damaged or truncated (its last chunk does not authenticate)");
        if (last && plainLength == 0 && _counter > 0) throw new AgeException(AgeFailure.Payload,
            "the age payload ends with an empty chunk after data");
        _counter++;
        (_plainPosition, _plainLength) = (0, plainLength);
        _inStart = sealedLength;
        _inLength -= sealedLength;
        if (last)
        {
            _done = true;
            if (more) _pendingError = new AgeException(AgeFailure.Payload,
                "the age file has bytes after its last chunk");
        }
        else if (!more) _pendingError = new AgeException(AgeFailure.Payload,
            "the age payload is truncated (its last chunk is missing)");
    }

    private bool TryOpen(int plainLength, bool last)
    {
        Span<byte> nonce = stackalloc byte[12];
        AgeFormat.ChunkNonce(nonce, _counter, last);
        try
        {
            _aead.Decrypt(nonce, _in.AsSpan(0, plainLength), _in.AsSpan(plainLength, AgeFormat.TagSize),
                _plain.AsSpan(0, plainLength));
            return true;
        }
        catch (AuthenticationTagMismatchException) { return false; }
    }

    private int Take(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _plainLength - _plainPosition);
        _plain.AsSpan(_plainPosition, n).CopyTo(buffer);
        _plainPosition += n;
        return n;
    }


}
