using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Audit;

/// <summary>
/// One size-rotated JSON-lines file of <see cref="AuditLog"/> (<c>name</c>, <c>name.1</c> … the oldest is dropped).
/// <see cref="Append"/> queues one whole line; a writer thread takes everything queued, appends it with one O_APPEND
/// write and one fsync (group commit), then completes each line's task. So a burst of N records costs a few fsyncs,
/// not N serialized ones (50 API clients during a create: p99 1.8 s → see docs/performance.md, "The API under load").
/// Lines keep the order they were queued in; several processes never interleave inside a line, since a batch is whole
/// lines written at once. The task never faults: a write that fails is reported to the application log.
/// <see cref="NewestFirst"/> reads the files backwards from their end, so the newest entries cost the same however
/// long the log.
/// </summary>
internal sealed class AuditFile(string directory, string fileName, long maxFileBytes, int keepFiles, ILogger? logger,
    Action<FileStream>? sync = null)
{
    /// <summary>A batch stays below this size (about 200 capped lines), so one write stays one short syscall.</summary>
    internal const int MaxBatchBytes = 1 << 20;

    private readonly Action<FileStream> _sync = sync ?? (stream => stream.Flush(flushToDisk: true));
    private readonly Lock _queueLock = new();
    private readonly Queue<QueuedLine> _queue = new();
    private bool _writing;

    private string PathName => Path.Combine(directory, fileName);

    /// <summary>name, then name.1, … newest first.</summary>
    private IEnumerable<string> FilesNewestFirst() =>
        Enumerable.Range(0, Math.Max(1, keepFiles)).Select(i => i == 0 ? PathName : $"{PathName}.{i}");

    /// <summary>Queues <paramref name="line"/> (without its newline); the task completes once it is on disk, or once
    /// writing it failed and the failure was logged.</summary>
    public Task Append(byte[] line)
    {
        var queued = new QueuedLine(line);
        bool start;
        lock (_queueLock)
        {
            _queue.Enqueue(queued);
            start = !_writing;
            _writing = true;
        }
        // A thread of its own, not the pool's: fsync blocks, and a starved pool must not hold the log back. It is a
        // foreground thread, so the process does not end before the queue is on disk.
        if (start) new Thread(WriteQueued) { Name = "Audit log writer", IsBackground = false }.Start();
        return queued.Durable.Task;
    }

    private void WriteQueued()
    {
        while (true)
        {
            var batch = new List<QueuedLine>();
            var bytes = 0;
            lock (_queueLock)
            {
                while (_queue.TryPeek(out var next)
                    && (batch.Count == 0 || bytes + next.Line.Length + 1 <= MaxBatchBytes))
                {
                    batch.Add(_queue.Dequeue());
                    bytes += next.Line.Length + 1;
                }
                if (batch.Count == 0) { _writing = false; return; }
            }
            try { Write(batch); }
            catch (Exception e) // never let the writer die with lines queued behind it
            {
                foreach (var line in batch)
                    logger?.LogError(e, "The audit log {Path} could not be written; lost entry: {Entry}",
                        PathName, Encoding.UTF8.GetString(line.Line));
            }
            foreach (var line in batch) line.Durable.TrySetResult();
        }
    }

    /// <summary>Appends the batch in as few writes as the size limit allows (one, unless it has to rotate in
    /// between), each followed by its fsync.</summary>
    private void Write(List<QueuedLine> batch)
    {
        Directory.CreateDirectory(directory);
        for (var first = 0; first < batch.Count;)
        {
            // Lines up to the file size limit (at least one), so a rotated file never grows past it.
            var count = 0;
            var size = 0L;
            while (first + count < batch.Count && (count == 0
                || size + batch[first + count].Line.Length + 1 <= maxFileBytes))
                size += batch[first + count++].Line.Length + 1;
            var bytes = new byte[size];
            var at = 0;
            for (var i = first; i < first + count; i++)
            {
                batch[i].Line.CopyTo(bytes, at);
                at += batch[i].Line.Length;
                bytes[at++] = (byte)'\n';
            }
            RotateIfFull(bytes.Length);
            // O_APPEND and one write of whole lines: lines from several processes never interleave.
            var options = IO.PrivateFiles.Create(FileMode.Append, FileAccess.Write,
                FileShare.ReadWrite | FileShare.Delete);
            using (var stream = new FileStream(PathName, options))
            {
                stream.Write(bytes);
                _sync(stream);
            }
            first += count;
        }
    }

    private sealed class QueuedLine(byte[] line)
    {
        public byte[] Line { get; } = line;
        public TaskCompletionSource Durable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void RotateIfFull(int adding)
    {
        var current = new FileInfo(PathName);
        if (!current.Exists || current.Length + adding <= maxFileBytes) return;
        var files = FilesNewestFirst().ToList();
        try
        {
            if (files.Count == 1) { File.Delete(PathName); return; }
            File.Delete(files[^1]);
            for (var i = files.Count - 2; i >= 0; i--)
                if (File.Exists(files[i])) File.Move(files[i], files[i + 1]);
        }
        catch (IOException)
        {
            // Another process rotated at the same moment; appending to whichever file is current is what matters.
        }
    }

    /// <summary>Every readable entry, newest first; unreadable lines (a torn line after a crash) are skipped.</summary>
    public IEnumerable<AuditEntry> NewestFirst()
    {
        foreach (var file in FilesNewestFirst())
        {
            if (!File.Exists(file)) yield break;
            foreach (var line in LinesFromTheEnd(file))
            {
                AuditEntry? entry;
                try { entry = JsonSerializer.Deserialize<AuditEntry>(line, BackupJson.Options); }
                catch (JsonException) { continue; }
                if (entry is not null) yield return entry;
            }
        }
    }

    public int Count() => FilesNewestFirst().Where(File.Exists).Sum(f => File.ReadLines(f).Count());

    /// <summary>The lines of a file from its last to its first, read in 64 KiB blocks from the end.</summary>
    private static IEnumerable<string> LinesFromTheEnd(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var block = new byte[64 << 10];
        var pending = new List<byte>(); // the start of a line whose end was read already, in reverse order
        for (var position = stream.Length; position > 0;)
        {
            var size = (int)Math.Min(block.Length, position);
            position -= size;
            stream.Position = position;
            stream.ReadExactly(block, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                if (block[i] == (byte)'\n')
                {
                    if (pending.Count > 0) yield return Decode(pending);
                    pending.Clear();
                }
                else pending.Add(block[i]);
            }
        }
        if (pending.Count > 0) yield return Decode(pending);
    }

    private static string Decode(List<byte> reversed)
    {
        var bytes = reversed.ToArray();
        Array.Reverse(bytes);
        return Encoding.UTF8.GetString(bytes);
    }
}
