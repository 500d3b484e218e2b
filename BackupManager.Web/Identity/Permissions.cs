namespace BackupManager.Web.Identity;

/// <summary>The permissions of the application: one claim value and one authorization policy of the same name
/// each.</summary>
public static class Permissions
{
    /// <summary>Claim type that carries a permission, on users or (through roles) role claims.</summary>
    public const string ClaimType = "permission";

    /// <summary>Create, list, download, upload, restore and delete backups; read the audit log.</summary>
    public const string ManageBackups = "manage-backups";

    /// <summary>The role that carries <see cref="ManageBackups"/> as a role claim.</summary>
    public const string AdministratorRole = "Administrator";

    public static readonly IReadOnlyList<string> All = [ManageBackups];
}
