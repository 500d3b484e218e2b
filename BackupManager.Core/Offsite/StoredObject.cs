namespace BackupManager.Core.Offsite;

/// <summary>An object as a catalog records it: its key and the size and SHA-256 of the bytes stored there.</summary>
public sealed record StoredObject(string Key, long Size, string Sha256);
