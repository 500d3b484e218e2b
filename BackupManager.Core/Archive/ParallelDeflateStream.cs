using System.Collections.Concurrent;
using System.IO.Compression;
using BackupManager.Core.IO;

namespace BackupManager.Core.Archive;

/// <summary>
/// Deflates on several threads at once and writes one ordinary deflate stream, as pigz does: the input is cut into
/// chunks, each compressed on its own and ended with a sync flush (which leaves the stream byte-aligned and not
/// final), and the compressed chunks are written in order; only the last chunk carries the final block. Any inflater
/// (unzip, .NET, zlib) reads the result. Each chunk starts without the previous one's 32 KiB window, which costs well
/// under 1 % of the size at the chunk size used here. A chunk on which string matching finds little (a dump's bytea,
/// written as hex) is Huffman-coded only: smaller and faster there.
/// Contract: one writer thread; <see cref="Complete"/> writes the last chunk and everything still in flight, in order,
/// and throws if a chunk failed; <see cref="Stream.Dispose()"/> without <see cref="Complete"/> abandons the output
/// (the caller deletes it) and stops the workers. Memory is bounded: at most workers + 2 chunks exist, each holding
/// its input and its output (about 16 MB with 2 workers).
/// With <c>contentDefinedCuts</c> a chunk ends where its content says (<see cref="GearCutter"/>: at least 1/16 of the
/// chunk size, then on average every 1/8 of it, at most the chunk size), not at a fixed size: unchanged stretches of a
/// dump then compress to the same bytes even after rows before them changed length, which is what lets off-site
/// copies send only what changed. The minimum is small beside the average on purpose: with a minimum of 3/4 and cuts
/// every 1/16 after it, the cuts after a change kept skipping each other's cut points and stayed out of step for
/// tens of megabytes of unchanged rows (measured on the benchmark's dump: 33 MB sent after 1 % of the rows of two
/// tables changed, where restic sent 4.5 MB).
/// With a head (<c>headBytes</c>, <c>headLines</c>) the first chunk ends at the first line end once at least that
/// many bytes and line ends have passed: a header that differs in every run (pg_dump's timestamp, the manifest's
/// time) then changes only a chunk of its own, not the first ~3/4 MiB after it. Counting lines keeps the head's end
/// on the same content when the header grows or shrinks by a digit; counting bytes suits a binary header of fixed
/// length.
/// </summary>
internal sealed class ParallelDeflateStream : InlineWriteStream
{
    internal const int DefaultChunkSize = 2 << 20;

    private readonly Stream _destination;
    private readonly int _level;
    private readonly int _workerCount;
    private readonly int _chunkSize;
    private readonly BlockingCollection<Chunk> _work = new();
    private readonly Queue<Chunk> _inFlight = new();
    private readonly Stack<Chunk> _spare = new(); // the writer's thread only
    private Thread[]? _workers;
    private Chunk? _filling;
    private GearCutter? _cutter;
    private int _headBytesLeft;
    private int _headLinesLeft;
    private readonly bool _lowPriority;
    private bool _completed;
    private bool _disposed;

    /// <summary>Compresses into <paramref name="destination"/> at zlib <paramref name="level"/>, <paramref
    /// name="workers"/> chunks of <paramref name="chunkSize"/> at once (one per core is a good choice).</summary>
    public ParallelDeflateStream(Stream destination, int level, int workers, int chunkSize = DefaultChunkSize,
        bool contentDefinedCuts = false, bool lowPriority = false, int headBytes = 0, int headLines = 0)
    {
        _lowPriority = lowPriority;
        ArgumentOutOfRangeException.ThrowIfNegative(headBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(headLines);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(headBytes, chunkSize);
        if (headBytes > 0 || headLines > 0) (_headBytesLeft, _headLinesLeft) = (headBytes, Math.Max(1, headLines));
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 64 << 10);
        (_destination, _level, _workerCount, _chunkSize) = (destination, level, workers, chunkSize);
        // For 4 MiB: at least 256 KiB, then a cut on average every 512 KiB; one chunk in about 1,800 reaches the full
        // size without a cut of its own.
        if (contentDefinedCuts) _cutter = new GearCutter(chunkSize / 16, chunkSize,
            maskBits: System.Numerics.BitOperations.Log2((uint)chunkSize / 8));
    }

    public override bool CanWrite => !_completed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (!buffer.IsEmpty)
        {
            var chunk = _filling ??= TakeSpare();
            var take = Math.Min(buffer.Length, _chunkSize - chunk.Length);
            var cut = false;
            // The head is not fed to the cutter: the cuts after it depend only on what follows.
            if (_headLinesLeft > 0) cut = TakeHead(buffer[..take], out take);
            else if (_cutter is { } cutter)
            {
                cut = cutter.Next(buffer[..take], out take);
                _cutter = cutter;
            }
            buffer[..take].CopyTo(chunk.Input.AsSpan(chunk.Length));
            chunk.Length += take;
            buffer = buffer[take..];
            if (!cut && chunk.Length < _chunkSize) continue;
            _headLinesLeft = 0; // a head without its line ends ends with its chunk
            Submit(final: false);
        }
    }

    /// <summary>How many of <paramref name="data"/> belong to the head; true when the head ends after them.</summary>
    private bool TakeHead(ReadOnlySpan<byte> data, out int taken)
    {
        taken = Math.Min(data.Length, _headBytesLeft);
        // Line ends within the bytes counted still count, but the head ends only at a line end after them.
        _headLinesLeft = Math.Max(1, _headLinesLeft - data[..taken].Count((byte)'\n'));
        _headBytesLeft -= taken;
        while (_headBytesLeft == 0 && taken < data.Length)
        {
            var lineEnd = data[taken..].IndexOf((byte)'\n');
            if (lineEnd < 0) { taken = data.Length; break; }
            taken += lineEnd + 1;
            if (--_headLinesLeft == 0) return true;
        }
        return false;
    }

    /// <summary>Compresses what is left as the final chunk and writes every chunk still in flight, in order.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _filling ??= TakeSpare();
        Submit(final: true);
        while (_inFlight.Count > 0) WriteOldest();
        _completed = true;
        StopWorkers();
    }

    private void Submit(bool final)
    {
        var chunk = _filling!;
        _filling = null;
        chunk.Final = final;
        StartWorkers();
        _inFlight.Enqueue(chunk);
        _work.Add(chunk);
        // One chunk per worker compresses while the next one fills: the writer waits only when all are busy.
        while (_inFlight.Count > _workerCount) WriteOldest();
    }

    private void WriteOldest()
    {
        var chunk = _inFlight.Dequeue();
        chunk.Done.Wait();
        if (chunk.Failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(chunk.Failure);
        _destination.Write(chunk.Output.GetBuffer().AsSpan(0, chunk.OutputLength));
        chunk.Reset();
        _spare.Push(chunk);
    }

    private Chunk TakeSpare() => _spare.TryPop(out var chunk) ? chunk : new Chunk(_chunkSize);

    private void StartWorkers()
    {
        if (_workers is not null) return;
        _workers = new Thread[_workerCount];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(CompressChunks) { IsBackground = true, Name = "Deflate worker" };
            _workers[i].Start();
        }
    }

    private void CompressChunks()
    {
        // Our own threads: a low-priority backup's compression can be niced without touching the thread pool.
        // A normal create's too, a little: with level 6 on 2 cores the API's p99 during a create rose to 0.7 s.
        if (_lowPriority) LowPriority.ApplyToCurrentThread();
        else LowPriority.YieldCpuOnCurrentThread();
        foreach (var chunk in _work.GetConsumingEnumerable())
        {
            try { chunk.Compress(_level); }
            catch (Exception e) { chunk.Failure = e; }
            finally { chunk.Done.Set(); }
        }
    }

    private void StopWorkers()
    {
        if (_work.IsAddingCompleted) return;
        _work.CompleteAdding();
        foreach (var worker in _workers ?? []) worker.Join();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = _completed = true;
            StopWorkers(); // chunks already queued finish compressing and are dropped
            _work.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>A final, fixed-Huffman block holding only its end code: a complete deflate stream of no
    /// bytes.</summary>
    internal static ReadOnlySpan<byte> EmptyFinalBlock => [0x03, 0x00];

    private sealed class Chunk(int size)
    {
        public readonly byte[] Input = new byte[size];
        public readonly MemoryStream Output = new(size / 2);
        public readonly ManualResetEventSlim Done = new();
        public int Length;
        public bool Final;
        public int OutputLength;
        public Exception? Failure;

        public void Compress(int level)
        {
            var strategy = ChooseStrategy(level);
            using var deflate = new DeflateStream(Output,
                new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = strategy },
                leaveOpen: true);
            deflate.Write(Input, 0, Length);
            if (Final)
            {
                deflate.Dispose(); // the final block
                // DeflateStream writes nothing for no input, which would leave the whole stream without a final block
                // (unzip and Python refuse that): after the previous chunk's sync flush an empty fixed block ends it.
                if (Output.Length == 0) Output.Write(EmptyFinalBlock);
                OutputLength = (int)Output.Length;
                return;
            }
            // A sync flush ends on a byte boundary without a final block; what disposing adds after it is not used.
            deflate.Flush();
            OutputLength = (int)Output.Length;
        }

        /// <summary>
        /// Huffman coding alone where string matching finds little, judged on the chunk's first 64 KiB: bytea in a
        /// dump is hex text, on which zlib-ng's level 1 keeps 85 % of the size at 77 MB/s, Huffman coding alone 51 %
        /// at 137 MB/s. On the benchmark's dump: 199 MB instead of 282 MB, in 27 % less CPU.
        /// </summary>
        private ZLibCompressionStrategy ChooseStrategy(int level)
        {
            const int probe = 64 << 10;
            if (Length < probe) return ZLibCompressionStrategy.Default;
            var matched = ProbeSize(level, ZLibCompressionStrategy.Default);
            if (matched <= probe / 2) return ZLibCompressionStrategy.Default; // text that matching halves: keep it
            return ProbeSize(level,
                ZLibCompressionStrategy.HuffmanOnly) < matched
                ? ZLibCompressionStrategy.HuffmanOnly : ZLibCompressionStrategy.Default;

            long ProbeSize(int level, ZLibCompressionStrategy strategy)
            {
                using (var deflate = new DeflateStream(Output,
                    new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = strategy },
                    leaveOpen: true))
                    deflate.Write(Input, 0, probe);
                var size = Output.Length;
                Output.SetLength(0);
                return size;
            }
        }

        public void Reset()
        {
            Output.SetLength(0);
            Done.Reset();
            (Length, Final, OutputLength, Failure) = (0, false, 0, null);
        }
    }
}
