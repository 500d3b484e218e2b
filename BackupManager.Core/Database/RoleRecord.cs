namespace BackupManager.Core.Database;

/// <summary>A role a database needs, as recorded in a backup: attributes and memberships, never a password.</summary>
public sealed record RoleRecord(string Name, bool Superuser, bool Inherit, bool CreateRole, bool CreateDb, bool Login,
    bool Replication,
    bool BypassRls, int ConnectionLimit, DateTimeOffset? ValidUntil, IReadOnlyList<RoleMembership> MemberOf)
{
    /// <summary>The attribute list of CREATE ROLE / ALTER ROLE for this role.</summary>
    public string Attributes() =>
        $"{(Superuser ? "" : "NO")}SUPERUSER {(Inherit ? "" : "NO")}INHERIT "
        + $"{(CreateRole ? "" : "NO")}CREATEROLE {(CreateDb ? "" : "NO")}CREATEDB "
        + $"{(Login ? "" : "NO")}LOGIN {(Replication ? "" : "NO")}REPLICATION "
        + $"{(BypassRls ? "" : "NO")}BYPASSRLS CONNECTION LIMIT {ConnectionLimit}";
}
