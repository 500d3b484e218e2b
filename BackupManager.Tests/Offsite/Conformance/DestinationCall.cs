namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>The operations of an <see cref="Core.Offsite.Destinations.IDestinationStorage"/>, as
/// <see cref="FaultyDestination"/> counts and spoils them.</summary>
public enum DestinationCall { List, Put, Read, Delete, RemoveLeftovers, Flush }
