using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using BackupManager.Core.Offsite.Age;

namespace BackupManager.Core.Offsite;

/// <summary>
/// Reads an archive's objects up to <c>parallel</c> at once (each opened, decrypted and hashed on its own task) and
/// hands them back in index order through <see cref="NextAsync"/>. Memory is bounded by bytes: objects are held in
/// 1 MiB chunks out of a budget of 16 MiB, or of the largest object of this index when that is larger (at most
/// <see cref="OffsiteFormat.MaxObjectBytes"/>, 64 MiB), reserved in index order, so the object to be written next
/// always holds its chunks and the read-ahead cannot starve it.
/// Nothing is compared with the index here: the caller checks each object's length and SHA-256 before writing it.
/// </summary>
internal sealed class ObjectReadAhead : IAsyncDisposable
{
    internal const int ChunkBytes = 1 << 20;
    internal const int MinBudgetChunks = 16;
    private const int MaxBudgetChunks = (int)(OffsiteFormat.MaxObjectBytes / ChunkBytes);

    private readonly Func<IndexSegment, CancellationToken, Task<Stream>> _open;
    private readonly Func<IndexSegment, AgeException, Exception> _damaged;
    private readonly int _budgetChunks;
    private readonly SemaphoreSlim _budget;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly Channel<Task<FetchedObject>> _ready = Channel.CreateUnbounded<Task<FetchedObject>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly List<Task<FetchedObject>> _started = [];
    private readonly CancellationTokenSource _stop;
    private readonly Task _producer;

    /// <summary>Starts reading <paramref name="segments"/>: <paramref name="open"/> gives an object's plaintext,
    /// <paramref name="damaged"/> turns an authentication failure while it is read into the error to report.</summary>
    public ObjectReadAhead(IReadOnlyList<IndexSegment> segments, int parallel,
        Func<IndexSegment, CancellationToken, Task<Stream>> open, Func<IndexSegment, AgeException, Exception> damaged,
        CancellationToken cancellationToken)
    {
        (_open, _damaged) = (open, damaged);
        // Small pieces (the dump's, the notes) need little; a restore then starts with less memory held.
        _budgetChunks = Math.Clamp(segments.Where(s => s.Inline is null)
            .Select(s => (int)Math.Min(MaxBudgetChunks, (s.Length + ChunkBytes - 1) / ChunkBytes))
            .DefaultIfEmpty(0).Max(), MinBudgetChunks, MaxBudgetChunks);
        _budget = new SemaphoreSlim(_budgetChunks, _budgetChunks);
        _slots = new SemaphoreSlim(Math.Max(1, parallel));
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _producer = Task.Run(() => ProduceAsync(segments, _stop.Token));
    }

    /// <summary>The bytes reserved for objects being read or waiting to be written: never more than the
    /// budget.</summary>
    internal long BytesReserved => (long)(_budgetChunks - _budget.CurrentCount) * ChunkBytes;

    /// <summary>The next segment in index order; the caller disposes it once written.</summary>
    public async Task<FetchedObject> NextAsync(CancellationToken cancellationToken)
    {
        var next = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return await next.ConfigureAwait(false);
    }

    private async Task ProduceAsync(IReadOnlyList<IndexSegment> segments, CancellationToken ct)
    {
        try
        {
            foreach (var segment in segments)
            {
                if (segment.Inline is { } bytes)
                {
                    _ready.Writer.TryWrite(Task.FromResult(FetchedObject.Inline(bytes)));
                    continue;
                }
                // No object is larger: an index that says so is damaged, and must not size the buffers.
                if (segment.Length is < 0 or > OffsiteFormat.MaxObjectBytes) throw new BackupException(
                    BackupErrorKind.Damaged, $"The index lists {segment.Object} as {segment.Length} bytes long, more "
                    + $"than any object holds; it is damaged.");
                var chunks = (int)Math.Max(1, (segment.Length + ChunkBytes - 1) / ChunkBytes);
                for (var i = 0; i < chunks; i++) await _budget.WaitAsync(ct).ConfigureAwait(false);
                try { await _slots.WaitAsync(ct).ConfigureAwait(false); }
                catch
                {
                    _budget.Release(chunks);
                    throw;
                }
                var fetch = Task.Run(() => FetchAsync(segment, chunks, ct), CancellationToken.None);
                _started.Add(fetch);
                _ready.Writer.TryWrite(fetch);
            }
        }
        catch (Exception e)
        {
            // Reported in order: the segments before it are still written (and checked) first.
            _ready.Writer.TryWrite(Task.FromException<FetchedObject>(e));
        }
    }

    private async Task<FetchedObject> FetchAsync(IndexSegment segment, int reserved, CancellationToken ct)
    {
        var chunks = new List<byte[]>(reserved);
        void Release()
        {
            foreach (var chunk in chunks) _free.Add(chunk);
            _budget.Release(reserved);
        }
        try
        {
            await using var content = await _open(segment, ct).ConfigureAwait(false);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            var parts = new List<ReadOnlyMemory<byte>>(reserved);
            try
            {
                int read = ChunkBytes;
                while (chunks.Count < reserved && read == ChunkBytes)
                {
                    var chunk = _free.TryTake(out var reused) ? reused
                        : GC.AllocateUninitializedArray<byte>(ChunkBytes);
                    chunks.Add(chunk);
                    read = await content.ReadAtLeastAsync(chunk, ChunkBytes, throwOnEndOfStream: false, ct)
                        .ConfigureAwait(false);
                    hash.AppendData(chunk, 0, read);
                    parts.Add(chunk.AsMemory(0, read));
                    length += read;
                }
                // Every chunk full: one more byte says the object is longer than its index entry.
                if (read == ChunkBytes) length += await content.ReadAsync(new byte[1], ct).ConfigureAwait(false);
            }
            // age authenticates each chunk as it is read: rot past the header shows up here
            catch (AgeException e) { throw _damaged(segment, e); }
            return new FetchedObject(parts, length, Convert.ToHexStringLower(hash.GetHashAndReset()), Release);
        }
        catch
        {
            Release();
            throw;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Stops reading ahead and waits for every read still running (the storage is closed after this).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _producer.ConfigureAwait(false); }
        catch (Exception) { /* reported through NextAsync, or not wanted any more */ }
        foreach (var fetch in _started)
        {
            try { (await fetch.ConfigureAwait(false)).Dispose(); }
            catch (Exception) { /* the read was abandoned; its failure is not the one to report */ }
        }
        _stop.Dispose();
        _free.Clear();
    }
}
