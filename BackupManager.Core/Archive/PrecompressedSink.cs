using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Where compressed content goes while it is produced: a temporary file (written past the page cache) until
/// <see cref="TryHandOff"/> is given the archive entry, which first receives what the file holds and then every
/// further byte directly. So the part of the dump produced after the files are written is never written twice, and
/// the archive is complete moments after the dump ends. Writes come from the producer's thread, the hand-off from the
/// archive's; a lock orders them.
/// </summary>
internal sealed class PrecompressedSink(string spillPath) : InlineWriteStream
{
    private const long CopyUnderLockBelow = 8 << 20;
    private readonly Lock _gate = new();
    private readonly UncachedFileWriter _spill = new(spillPath, share: FileShare.Read); // read back by the hand-off
    private Stream? _entry;
    private long _written;
    private bool _finished;

    /// <summary>True once the bytes go to the archive entry; the spill file then holds nothing the archive still
    /// needs.</summary>
    public bool HandedOff { get { lock (_gate) return _entry is not null; } }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (_finished) throw new InvalidOperationException("The content is already complete.");
            (_entry ?? _spill).Write(buffer);
            _written += buffer.Length;
        }
    }

    /// <summary>
    /// Opens the archive entry with <paramref name="openEntry"/>, copies what the spill file holds into it and sends
    /// every later byte there; returns the entry. Null, with no entry opened, when the content was already complete:
    /// the caller then adds the whole spill file as it is.
    /// </summary>
    public T? TryHandOff<T>(Func<T> openEntry) where T : Stream
    {
        T entry;
        lock (_gate)
        {
            if (_finished) return null;
            entry = openEntry();
        }
        using var spilled = new UncachedFileReader(spillPath, FileShare.ReadWrite);
        long copied = 0;
        while (true)
        {
            long onDisk;
            lock (_gate)
            {
                onDisk = _spill.WaitForWrittenLength();
                // Close to the end (or already there): copy the rest while the producer waits, then switch it over.
                if (_finished || _written - copied <= CopyUnderLockBelow)
                {
                    CopyRange(spilled, copied, onDisk, entry);
                    _spill.CopyUnwrittenTo(entry);
                    _entry = entry;
                    return entry;
                }
            }
            CopyRange(spilled, copied, onDisk, entry);
            copied = onDisk;
        }
    }

    /// <summary>Ends the content; returns its compressed size. The spill file is complete on disk unless handed
    /// off.</summary>
    public long Finish()
    {
        lock (_gate)
        {
            // Not handed off: the caller adds the spill file as it is, so its last piece must be on disk.
            // a scratch file: the archive is what gets flushed
            if (!_finished && _entry is null) _spill.Complete(flushToDisk: false);
            _finished = true;
            return _written;
        }
    }

    private static void CopyRange(UncachedFileReader source, long from, long to, Stream destination)
    {
        source.Position = from;
        var buffer = new byte[BackupArchiveWriter.BufferSize];
        for (var remaining = to - from; remaining > 0;)
        {
            var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0) throw new IOException($"{source.Name} ended {remaining} bytes early.");
            destination.Write(buffer, 0, read);
            remaining -= read;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _spill.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanWrite => true;
}
