using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace BackupManager.Core.IO;

/// <summary>
/// Aligned native buffers for <see cref="UncachedFileWriter"/> and <see cref="UncachedFileReader"/>, reused: a fresh
/// 4 MiB allocation per file would fault in new pages every time, the very cost these streams avoid.
/// </summary>
internal static unsafe class AlignedChunks
{
    public const int Alignment = 4096;
    public const int Size = 4 << 20;
    private const int Retained = 8;
    private static readonly ConcurrentBag<nint> Free = [];

    public static byte* Rent() => Free.TryTake(out var chunk) ? (byte*)chunk : (byte*)NativeMemory.AlignedAlloc(Size,
        Alignment);

    public static void Return(byte* chunk)
    {
        if (chunk == null) return;
        if (Free.Count < Retained) Free.Add((nint)chunk);
        else NativeMemory.AlignedFree(chunk);
    }

    public static long AlignDown(long value) => value & ~(long)(Alignment - 1);
    public static long AlignUp(long value) => AlignDown(value + Alignment - 1);
}
