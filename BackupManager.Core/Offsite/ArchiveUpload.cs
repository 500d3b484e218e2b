using System.Security.Cryptography;
using BackupManager.Core.Archive;
using BackupManager.Core.IO;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using Microsoft.Win32.SafeHandles;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Copies one archive's pieces to a destination. One pass reads the archive in order, hashes it and cuts it
/// (<see cref="PieceCutter"/>); each piece the destination lacks is uploaded from its own window of the file, up to
/// <c>parallel</c> at once (requests to S3 and SFTP wait mostly on the network; a folder's fsyncs overlap). Contract:
/// one caller; <see cref="CopyAsync"/> returns only once every upload it started has ended, and throws the first
/// failure. The <paramref name="remote"/> view is updated only on the caller's thread.
/// </summary>
internal sealed class ArchiveUpload(IDestinationStorage storage, IReadOnlyList<AgeRecipient> recipients,
    byte[] namingKey, RemoteView remote, int parallel)
{
    private readonly List<IndexSegment> _segments = [];
    private readonly List<StoredObject?> _objects = [];
    private readonly HashSet<string> _referenced = new(StringComparer.Ordinal);
    private readonly List<Task<(int Slot, StoredObject Stored)>> _running = [];

    public long Sent { get; private set; }
    public long Reused { get; private set; }
    public IReadOnlyList<StoredObject> Objects => _objects.Select(o => o!).ToList();

    /// <summary>Uploads what the destination lacks of the archive at <paramref name="path"/> and returns its
    /// index.</summary>
    public async Task<ArchiveIndex> CopyAsync(string path, string filename, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            1 << 20, FileOptions.SequentialScan);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var plan = OffsiteFormat.Plan(file, filename, namingKey);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var pieceHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        try
        {
            foreach (var range in plan)
            {
                file.Seek(range.Offset, SeekOrigin.Begin);
                if (!range.IsObject)
                {
                    var bytes = new byte[range.Length];
                    await file.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                    whole.AppendData(bytes);
                    _segments.Add(new IndexSegment { Inline = bytes, Length = range.Length });
                    continue;
                }
                // A head is cut off however small the entry: the manifest of a clinic is a few hundred kilobytes.
                var cutting = !range.Pack && (range.HeadCut || range.Length > OffsiteFormat.MinCutBytes);
                var cutter = new PieceCutter(range.Deflated, range.HeadCut);
                long pieceStart = range.Offset, pieceLength = 0;
                for (var left = range.Length; left > 0;)
                {
                    var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)),
                        cancellationToken).ConfigureAwait(false);
                    if (n == 0) throw new IOException($"{filename} ended early while it was being copied.");
                    left -= n;
                    whole.AppendData(buffer, 0, n);
                    for (var position = 0; position < n;)
                    {
                        int take;
                        var cut = false;
                        if (cutting) cut = cutter.Next(buffer.AsSpan(position, n - position), out take);
                        else take = n - position;
                        pieceHash.AppendData(buffer, position, take);
                        pieceLength += take;
                        position += take;
                        if (!cut && !(left == 0 && position == n)) continue;
                        await StorePieceAsync(handle, pieceStart, pieceLength, pieceHash.GetHashAndReset(),
                            cancellationToken).ConfigureAwait(false);
                        pieceStart += pieceLength;
                        pieceLength = 0;
                    }
                }
            }
            while (_running.Count > 0) await FinishOneAsync().ConfigureAwait(false);
        }
        finally
        {
            // Never leave an upload reading a file this method is about to close.
            try { await Task.WhenAll(_running).ConfigureAwait(false); }
            catch (Exception) { /* the first failure is already on its way out */ }
        }
        return new ArchiveIndex { Filename = filename, Size = file.Length,
            Sha256 = Convert.ToHexStringLower(whole.GetHashAndReset()), Segments = _segments };
    }

    /// <summary>Records one piece in the index; starts its upload unless the destination already holds the same
    /// content or an upload of it has started.</summary>
    private async Task StorePieceAsync(SafeFileHandle file, long start, long length, byte[] sha,
        CancellationToken cancellationToken)
    {
        var key = OffsiteFormat.ObjectKey(OffsiteFormat.ObjectName(namingKey, sha));
        _segments.Add(new IndexSegment { Object = key, Length = length, Sha256 = Convert.ToHexStringLower(sha) });
        if (!_referenced.Add(key)) return;
        if (remote.Known.TryGetValue(key, out var stored))
        {
            _objects.Add(stored);
            Reused += stored.Size;
            return;
        }
        while (_running.Count >= parallel) await FinishOneAsync().ConfigureAwait(false);
        var slot = _objects.Count;
        _objects.Add(null);
        _running.Add(UploadAsync(slot, key, file, start, length, cancellationToken));
    }

    private async Task<(int, StoredObject)> UploadAsync(int slot, string key, SafeFileHandle file, long start,
        long length, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the caller goes on reading while this one encrypts and sends
        return (slot, await PutAsync(storage, key, new RangeStream(file, start, length), length, recipients,
            cancellationToken, unsynced: true).ConfigureAwait(false));
    }

    private async Task FinishOneAsync()
    {
        var done = await Task.WhenAny(_running).ConfigureAwait(false);
        _running.Remove(done);
        var (slot, stored) = await done.ConfigureAwait(false);
        _objects[slot] = stored;
        remote.Known[stored.Key] = stored;
        Sent += stored.Size;
    }

    /// <summary>Uploads <paramref name="plaintext"/> (age-encrypted to <paramref name="recipients"/>, or as it is when
    /// there are none) and records the stored size and SHA-256. <paramref name="unsynced"/>: durable only after the
    /// destination's next flush.</summary>
    public static async Task<StoredObject> PutAsync(IDestinationStorage storage, string key, Stream plaintext,
        long length, IReadOnlyList<AgeRecipient> recipients, CancellationToken cancellationToken,
        bool unsynced = false)
    {
        var encrypted = recipients.Count > 0;
        await using var body = encrypted ? AgeFormat.Encrypt(plaintext, length, recipients) : plaintext;
        var storedLength = encrypted ? body.Length : length;
        var hashing = new HashingStream(body, forRead: true);
        await (unsynced ? storage.PutUnsyncedAsync(key, hashing, storedLength, cancellationToken)
            : storage.PutAsync(key, hashing, storedLength, cancellationToken)).ConfigureAwait(false);
        return new StoredObject(key, storedLength, hashing.HashHex());
    }
}
