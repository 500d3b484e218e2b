namespace BackupManager.Core.Database;

/// <summary>One privilege in the database ACL; a null <see cref="Grantee"/> is PUBLIC.</summary>
public sealed record DatabaseGrant(string? Grantee, string Privilege, bool Grantable);
