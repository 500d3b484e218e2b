namespace BackupManager.Core.Offsite.Age;

/// <summary>Why an age file could not be read, in the categories of the format's test vectors.</summary>
public enum AgeFailure { Header, NoMatch, HeaderMac, Payload }
