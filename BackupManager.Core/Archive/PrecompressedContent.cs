namespace BackupManager.Core.Archive;

/// <summary>An entry's content deflated (or stored) ahead of time, with what its zip headers need.</summary>
internal sealed record PrecompressedContent(bool Deflated, uint Crc32, long Size, long CompressedSize, string Sha256);
