using System.Text;

namespace BackupManager.Core.Database;

/// <summary>
/// Counts each table's rows in a <c>pg_dump --format=custom --compress=0</c> stream as it passes, for the restore
/// drill to compare against: the table of contents says which dump id is which table's data, and each data block is
/// COPY text, one row per line (newlines inside values are escaped as <c>\n</c>). Costs one vectorised newline count
/// over the data; needs no second look at the database. Understands archive versions 1.12–1.16 (PostgreSQL 11–18
/// clients); anything it does not understand turns counting off (<see cref="Counts"/> is then null), never the backup.
/// Contract: a write-through stream; the caller writes the dump in order and reads <see cref="Counts"/> at the end.
/// </summary>
internal sealed class DumpRowCounter(Stream inner) : Stream
{
    private const byte BlockData = 1, BlockBlobs = 3;
    private enum State { Header, BlockType, DumpId, ChunkLength, Chunk, BlobOid, Done, Failed }

    private State _state = State.Header;
    private readonly MemoryStream _head = new(); // the header and the TOC until they are complete
    private int _intSize = 4;
    private Dictionary<int, string> _tables = [];
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly byte[] _int = new byte[9];
    private int _intFill;
    private int _currentId;
    private bool _currentIsBlobs;
    private string? _currentTable;
    private long _chunkLeft;

    /// <summary>"schema.table" → rows, once the dump ended in a state that makes sense; null when counting was given
    /// up.</summary>
    public IReadOnlyDictionary<string, long>? Counts => _state is State.BlockType or State.Done
        ? _tables.Values.Distinct().ToDictionary(t => t, t => _counts.GetValueOrDefault(t), StringComparer.Ordinal)
        : null;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_state != State.Failed) Parse(buffer);
        inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        if (_state != State.Failed) Parse(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Parse(ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty && _state is not (State.Failed or State.Done))
            {
                switch (_state)
                {
                    case State.Header:
                        _head.Write(data);
                        data = [];
                        TryReadHeader();
                        break;
                    case State.Chunk:
                        var n = (int)Math.Min(_chunkLeft, data.Length);
                        if (_currentTable is not null)
                        {
                            _counts[_currentTable] = _counts.GetValueOrDefault(_currentTable)
                                + data[..n].Count((byte)'\n');
                            KeepTail(data[..n]);
                        }
                        _chunkLeft -= n;
                        data = data[n..];
                        if (_chunkLeft == 0) _state = State.ChunkLength;
                        break;
                    case State.BlockType:
                        var type = data[0];
                        data = data[1..];
                        if (type is not (BlockData or BlockBlobs)) { _state = State.Failed; break; }
                        _currentIsBlobs = type == BlockBlobs;
                        _state = State.DumpId;
                        break;
                    default:
                        // An int: a sign byte and _intSize little-endian bytes, possibly split across writes.
                        var take = Math.Min(1 + _intSize - _intFill, data.Length);
                        data[..take].CopyTo(_int.AsSpan(_intFill));
                        _intFill += take;
                        data = data[take..];
                        if (_intFill == 1 + _intSize) OnInt(DecodeInt(_int));
                        break;
                }
            }
        }
        catch (Exception e) when (
            e is FormatException or EndOfStreamException or OverflowException or ArgumentException)
        {
            _state = State.Failed;
        }
    }

    private void OnInt(long value)
    {
        _intFill = 0;
        switch (_state)
        {
            case State.DumpId:
                _currentId = (int)value;
                _currentTable = _currentIsBlobs ? null : _tables.GetValueOrDefault(_currentId);
                _state = _currentIsBlobs ? State.BlobOid : State.ChunkLength;
                break;
            case State.BlobOid:
                _state = value == 0 ? State.BlockType : State.ChunkLength;
                break;
            case State.ChunkLength:
                if (value < 0) throw new FormatException("negative chunk length");
                if (value == 0 && _currentTable is not null && _tail.AsSpan().SequenceEqual(CopyEnd))
                    _counts[_currentTable] -= 3; // pg_dump ends each table's COPY data with "\.", then two empty lines
                if (value == 0) _tail = [];
                if (value == 0) _state = _currentIsBlobs ? State.BlobOid : State.BlockType;
                else (_chunkLeft, _state) = (value, State.Chunk);
                break;
        }
    }

    private static readonly byte[] CopyEnd = "\\.\n\n\n"u8.ToArray();
    private byte[] _tail = [];

    /// <summary>The last five bytes of the current table's data, to recognise pg_dump's end-of-data marker.</summary>
    private void KeepTail(ReadOnlySpan<byte> data)
    {
        var joined = _tail.Length + data.Length <= 5 ? [.. _tail,
            .. data] : data.Length >= 5 ? data[^5..].ToArray() : [.. _tail[(_tail.Length + data.Length - 5)..],
            .. data];
        _tail = joined;
    }

    private long DecodeInt(ReadOnlySpan<byte> bytes)
    {
        long value = 0;
        for (var i = 0; i < _intSize; i++) value |= (long)bytes[1 + i] << (8 * i);
        return bytes[0] != 0 ? -value : value;
    }

    /// <summary>Parses the header and the TOC once all of it has arrived; then continues with what followed
    /// them.</summary>
    private void TryReadHeader()
    {
        if (_head.Length > 256L << 20) throw new FormatException("the table of contents is implausibly long");
        var bytes = _head.GetBuffer().AsSpan(0, (int)_head.Length);
        var reader = new Reader(bytes);
        if (!reader.TryBytes(5, out var magic)) return;
        if (!magic.SequenceEqual("PGDMP"u8)) throw new FormatException("not a custom-format dump");
        if (!reader.TryBytes(6, out var version)) return;
        var (major, minor) = (version[0], version[1]);
        if (major != 1 || minor is < 12 or > 16) throw new FormatException($"archive version {major}.{minor}");
        _intSize = version[3];
        var offSize = version[4];
        if (version[5] != 1 /* archCustom */ || _intSize is < 1 or > 8 || offSize is < 1 or > 8)
            throw new FormatException("unexpected archive layout");
        reader.IntSize = _intSize;
        if (minor >= 15) { if (!reader.TryBytes(1, out _)) return; }
        else if (!reader.TryInt(out _)) return;
        for (var i = 0; i < 7; i++) if (!reader.TryInt(out _)) return; // creation time
        for (var i = 0; i < 3; i++) if (!reader.TryString(out _)) return; // database, server version, pg_dump version
        if (!reader.TryInt(out var count)) return;
        var tables = new Dictionary<int, string>();
        for (var entry = 0; entry < count; entry++)
        {
            if (!reader.TryInt(out var dumpId) || !reader.TryInt(out _)) return;
            string? tag = null, desc = null, schema = null;
            if (!reader.TryString(out _) || !reader.TryString(out _) || !reader.TryString(out tag)
                || !reader.TryString(out desc)) return;
            if (!reader.TryInt(out _)) return; // section
            if (!reader.TryString(out _) || !reader.TryString(out _) || !reader.TryString(out _)
                || !reader.TryString(out schema) || !reader.TryString(out _)) return;
            if (minor >= 14 && !reader.TryString(out _)) return; // table access method
            if (minor >= 16 && !reader.TryInt(out _)) return; // relkind
            if (!reader.TryString(out _) || !reader.TryString(out _)) return; // owner, "false"
            while (true)
            {
                if (!reader.TryStringOrNull(out var dependency, out var isNull)) return;
                if (isNull) break;
            }
            if (!reader.TryBytes(1 + offSize, out _)) return;
            if (desc == "TABLE DATA" && tag is not null) tables[(int)dumpId] = $"{schema}.{tag}";
        }
        _tables = tables;
        foreach (var t in tables.Values) _counts[t] = 0;
        var rest = bytes[reader.Position..].ToArray();
        _head.SetLength(0);
        _state = State.BlockType;
        Parse(rest);
    }

    /// <summary>Reads pg_dump's ints and strings from the buffered head; Try* return false when more bytes are
    /// needed.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        public int Position;
        public int IntSize = 4;

        public bool TryBytes(int n, out ReadOnlySpan<byte> value)
        {
            if (Position + n > _bytes.Length) { value = default; return false; }
            value = _bytes.Slice(Position, n);
            Position += n;
            return true;
        }

        public bool TryInt(out long value)
        {
            value = 0;
            if (!TryBytes(1 + IntSize, out var raw)) return false;
            for (var i = 0; i < IntSize; i++) value |= (long)raw[1 + i] << (8 * i);
            if (raw[0] != 0) value = -value;
            return true;
        }

        public bool TryString(out string? value) => TryStringOrNull(out value, out _);

        public bool TryStringOrNull(out string? value, out bool isNull)
        {
            value = null;
            isNull = false;
            if (!TryInt(out var length)) return false;
            if (length < 0) { isNull = true; return true; }
            if (length > 1 << 28) throw new FormatException("implausible string length");
            if (!TryBytes((int)length, out var text)) return false;
            value = Encoding.UTF8.GetString(text);
            return true;
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set =>
        throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
