namespace BackupManager.Core.Offsite;

/// <summary>The kinds of off-site destination.</summary>
public enum DestinationType { S3, Sftp, Folder }
