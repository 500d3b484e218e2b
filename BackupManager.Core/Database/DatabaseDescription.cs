namespace BackupManager.Core.Database;

/// <summary>What a dump is made of, recorded in the manifest.</summary>
public sealed record DatabaseDescription(string Name, string ServerVersion, string DumpToolVersion, DatabaseState State,
    IReadOnlyList<RoleRecord> Roles);
