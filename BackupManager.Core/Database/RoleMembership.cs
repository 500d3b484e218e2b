namespace BackupManager.Core.Database;

/// <summary>Membership of a role in <see cref="Role"/>.</summary>
public sealed record RoleMembership(string Role, bool Admin);
