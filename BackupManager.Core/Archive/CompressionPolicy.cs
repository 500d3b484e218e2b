using System.IO.Compression;

namespace BackupManager.Core.Archive;

/// <summary>
/// Already-compressed formats (images, PDFs, archives, video, office files) are stored; deflating them costs CPU
/// and saves nothing. Everything else gets the fastest deflate level.
/// </summary>
public static class CompressionPolicy
{
    private static readonly HashSet<string> StoredExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".jp2", ".pdf",
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".dump",
        ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mp3", ".m4a", ".dcm",
        ".docx", ".xlsx", ".pptx", ".odt", ".ods",
    };

    public static CompressionLevel For(string fileName) =>
        StoredExtensions.Contains(Path.GetExtension(fileName))
            ? CompressionLevel.NoCompression : CompressionLevel.Fastest;
}
