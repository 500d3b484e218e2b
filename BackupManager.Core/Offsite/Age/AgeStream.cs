using System.Security.Cryptography;
using BackupManager.Core.IO;

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
