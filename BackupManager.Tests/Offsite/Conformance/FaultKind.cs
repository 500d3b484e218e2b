namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>What a <see cref="DestinationFault"/> does to the calls it matches.</summary>
public enum FaultKind { Fail, Stall, TruncateWrite, TruncateRead, FlipByteOnRead }
