namespace BackupManager.Core.Offsite;

/// <summary>
/// One segment of an archive as read back by <see cref="ObjectReadAhead"/>: its plaintext bytes in order, how many
/// bytes the object really held and their SHA-256, not yet compared with the index. Disposing gives its memory back to
/// the read-ahead's budget.
/// </summary>
internal sealed class FetchedObject(IReadOnlyList<ReadOnlyMemory<byte>> parts, long length, string? sha256,
    Action? release) : IDisposable
{
    private Action? _release = release;

    /// <summary>The bytes, in order (1 MiB chunks, or a segment's inline bytes).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Parts => parts;

    /// <summary>How many bytes the object held (one more than read when it was longer than its index entry).</summary>
    public long Length => length;

    /// <summary>The SHA-256 of what was read; null for inline bytes, which the index holds itself.</summary>
    public string? Sha256 => sha256;

    public static FetchedObject Inline(byte[] bytes) => new([bytes], bytes.Length, null, null);

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
