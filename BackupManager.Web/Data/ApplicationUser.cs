using Microsoft.AspNetCore.Identity;

namespace BackupManager.Web.Data;

/// <summary>A person who can sign in. What they may do comes from claims (see <see
/// cref="Identity.Permissions"/>).</summary>
public sealed class ApplicationUser : IdentityUser;
