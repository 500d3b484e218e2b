using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Audit;

/// <summary>
/// One size-rotated JSON-lines file of <see cref="AuditLog"/> (<c>name</c>, <c>name.1</c> … the oldest is dropped).
/// <see cref="Append"/> writes one whole line with one O_APPEND write and flushes it; it never throws.
/// <see cref="NewestFirst"/> reads the files backwards from their end, so the newest entries cost the same however
/// long the log.
/// </summary>
internal sealed class AuditFile(string directory, string fileName, long maxFileBytes, int keepFiles, ILogger? logger)
{
    private readonly Lock _writeLock = new();

    private string PathName => Path.Combine(directory, fileName);

    /// <summary>name, then name.1, … newest first.</summary>
    private IEnumerable<string> FilesNewestFirst() =>
        Enumerable.Range(0, Math.Max(1, keepFiles)).Select(i => i == 0 ? PathName : $"{PathName}.{i}");

    public void Append(byte[] line)
    {
        var bytes = new byte[line.Length + 1];
        line.CopyTo(bytes, 0);
        bytes[^1] = (byte)'\n';
        lock (_writeLock)
        {
            try
            {
                Directory.CreateDirectory(directory);
                RotateIfFull(bytes.Length);
                // O_APPEND and one write per line: lines from several processes never interleave.
                var options = IO.PrivateFiles.Create(FileMode.Append, FileAccess.Write,
                    FileShare.ReadWrite | FileShare.Delete);
                using var stream = new FileStream(PathName, options);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger?.LogError(e, "The audit log {Path} could not be written; lost entry: {Entry}",
                    PathName, Encoding.UTF8.GetString(line));
            }
        }
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
