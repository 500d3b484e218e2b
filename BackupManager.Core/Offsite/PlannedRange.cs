namespace BackupManager.Core.Offsite;

/// <summary>A byte range of an archive as the off-site format stores it: inline in the index (headers, a central
/// directory up to 1 MiB), or as objects (an entry's stored bytes or a larger central directory; <see
/// cref="Deflated"/> when a deflate
/// stream; a <see cref="Pack"/> of small files is one object, never cut; <see cref="HeadCut"/> when its first
/// deflate chunk is a short head of its own, which then makes a piece of its own).</summary>
internal readonly record struct PlannedRange(long Offset, long Length, bool IsObject, bool Deflated,
    bool Pack = false, bool HeadCut = false);
