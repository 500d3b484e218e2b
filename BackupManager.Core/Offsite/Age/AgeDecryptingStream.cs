using System.Security.Cryptography;

namespace BackupManager.Core.Offsite.Age;

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
