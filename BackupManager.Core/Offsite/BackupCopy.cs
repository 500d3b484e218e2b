namespace BackupManager.Core.Offsite;

/// <summary>Where one backup has been copied, per destination.</summary>
public sealed record BackupCopy(string Destination, CopyState State);
