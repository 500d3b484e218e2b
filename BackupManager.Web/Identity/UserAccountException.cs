namespace BackupManager.Web.Identity;

/// <summary>A user-management request that cannot be done; the message says why.</summary>
public sealed class UserAccountException(string message) : Exception(message);
