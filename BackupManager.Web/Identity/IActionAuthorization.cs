using BackupManager.Core.Jobs;

namespace BackupManager.Web.Identity;

/// <summary>
/// The check every page action makes when it runs (create, restore confirm, delete, pin, upload, token create and
/// revoke): does the circuit's user still hold manage-backups, by the account store now rather than by the claims the
/// circuit was opened with?
/// </summary>
public interface IActionAuthorization
{
    /// <summary>
    /// The acting user when the permission still holds; otherwise null, after sending the browser to the
    /// access-denied page, which ends the circuit and every dialog it had open.
    /// </summary>
    Task<Actor?> AuthorizeAsync();
}
