using System.Buffers;
using System.Text.Json;

namespace BackupManager.Core.Archive;

/// <summary>
/// Reads <c>manifest.json</c> as it streams, so a manifest of a million files is never held: each object of its
/// <c>entries</c> array goes straight into a <see cref="SpilledManifestEntries"/>, and the rest (a few kilobytes:
/// the time, the database, the roots, the totals) is deserialized as usual. Same dialect and result as
/// <c>JsonSerializer.Deserialize&lt;BackupManifest&gt;</c> with <see cref="BackupJson.Options"/>; throws
/// <see cref="JsonException"/> on anything that is not a manifest.
/// </summary>
internal sealed class ManifestJsonReader(Stream source, SpilledManifestEntries entries, int maxEntries,
    int bufferSize = 1 << 20, int maxHeaderBytes = ManifestJsonReader.MaxValueBytes)
{
    /// <summary>The most the manifest outside its entries may hold (a database's roles and row counts are far below):
    /// a crafted manifest must not take the memory or the disk before its checksum is judged.</summary>
    private const int MaxValueBytes = 64 << 20;
    /// <summary>The largest entry (a path of 4,096 characters, each escaped, is about 24 KiB).</summary>
    private const int MaxEntryBytes = 1 << 20;
    private const string EntriesName = "entries";
    private byte[] _buffer = new byte[bufferSize];
    private int _start, _end;
    private bool _final, _sawEntries;
    private JsonReaderState _state;
    private Phase _phase;
    /// <summary>The manifest without its entries, as raw JSON: each other property copied as it stands.</summary>
    private readonly ArrayBufferWriter<byte> _header = new();

    private enum Phase { Start, Properties, Entries, Done }

    /// <summary>Reads the whole stream; returns the manifest with <paramref name="entries"/> as its entries.</summary>
    public BackupManifest Read()
    {
        _header.Write("{"u8);
        Fill();
        while (true)
        {
            var before = _start;
            Step();
            if (_phase == Phase.Done) break;
            if (_final) throw new JsonException("it ends before its last '}'");
            if (_start == before && _end - _start == _buffer.Length) Grow();
            Fill();
        }
        _header.Write("}"u8);
        EnsureOnlyWhitespaceFollows();
        entries.Seal();
        var manifest = JsonSerializer.Deserialize<BackupManifest>(_header.WrittenSpan, BackupJson.Options)
            ?? throw new JsonException("it is empty");
        return manifest with { Entries = entries };
    }

    private void Step()
    {
        var data = _buffer.AsSpan(_start, _end - _start);
        var reader = new Utf8JsonReader(data, _final, _state);
        Process(ref reader, data);
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    /// <summary>Consumes whole values while the buffer holds them; leaves <paramref name="reader"/> after the last one
    /// (a value cut by the buffer's end is read again once more data is in).</summary>
    private void Process(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        while (_phase != Phase.Done)
        {
            var checkpoint = reader;
            if (!reader.Read()) return;
            switch (_phase)
            {
                case Phase.Start:
                    if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("it is not an object");
                    _phase = Phase.Properties;
                    break;
                case Phase.Properties when reader.TokenType == JsonTokenType.EndObject:
                    _phase = Phase.Done;
                    break;
                case Phase.Properties:
                    var nameStart = (int)reader.TokenStartIndex;
                    if (reader.ValueTextEquals(EntriesName))
                    {
                        if (!reader.Read()) { reader = checkpoint; return; }
                        if (_sawEntries) throw new JsonException("it has two lists of entries");
                        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException(
                            "its entries are not a list");
                        _sawEntries = true;
                        _phase = Phase.Entries;
                        break;
                    }
                    var probe = reader;
                    if (!probe.TrySkip()) { reader = checkpoint; return; }
                    reader.TrySkip(); // whole, as the probe found
                    // "name": value as it stands; the deserializer below judges both.
                    if (_header.WrittenCount + reader.BytesConsumed - nameStart > maxHeaderBytes)
                        throw new JsonException($"it holds more than {maxHeaderBytes:N0} bytes besides its entries");
                    if (_header.WrittenCount > 1) _header.Write(","u8);
                    _header.Write(data[nameStart..(int)reader.BytesConsumed]);
                    break;
                case Phase.Entries when reader.TokenType == JsonTokenType.EndArray:
                    _phase = Phase.Properties;
                    break;
                case Phase.Entries:
                    if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException(
                        "one of its entries is not an object");
                    var whole = reader;
                    if (!whole.TrySkip()) { reader = checkpoint; return; }
                    var entry = JsonSerializer.Deserialize<ManifestEntry>(ref reader, BackupJson.Options);
                    if (entry is not { Path: not null, Sha256: not null }) throw new JsonException(
                        "one of its entries has no path or no SHA-256");
                    if (entries.Count >= maxEntries) throw new JsonException(
                        $"it lists more entries than the archive's {maxEntries}");
                    entries.Add(entry);
                    break;
            }
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        while (_end < _buffer.Length && !_final)
        {
            var read = source.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) _final = true;
            _end += read;
        }
    }

    private void Grow()
    {
        if (_phase == Phase.Entries && _buffer.Length >= MaxEntryBytes) throw new JsonException(
            $"one of its entries is larger than {MaxEntryBytes >> 20} MiB");
        if (_buffer.Length >= MaxValueBytes) throw new JsonException(
            $"one of its values is larger than {MaxValueBytes >> 20} MiB");
        Array.Resize(ref _buffer, _buffer.Length * 2);
    }

    /// <summary>What follows the manifest's closing brace, to the stream's end, may only be white space.</summary>
    private void EnsureOnlyWhitespaceFollows()
    {
        while (true)
        {
            foreach (var b in _buffer.AsSpan(_start, _end - _start))
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                    throw new JsonException("there is more after its end");
            _start = _end;
            if (_final) return;
            Fill();
        }
    }
}
