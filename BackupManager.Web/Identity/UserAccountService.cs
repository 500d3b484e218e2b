using System.Security.Claims;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace BackupManager.Web.Identity;

/// <summary>Creates users and grants or revokes the Administrator role; used by the console commands and the demo
/// set-up.</summary>
public sealed class UserAccountService(UserManager<ApplicationUser> users, RoleManager<IdentityRole> roles,
    ApplicationDbContext db,
    IConfiguration configuration, ILogger<UserAccountService> logger)
{
    /// <summary>
    /// Makes the accounts database if it is missing, applies pending EF Core migrations (Identity and token tables) to
    /// it, and when it was just made (here, or by the caller: <paramref name="createdByCaller"/>) moves the accounts of
    /// an older installation out of the application database.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken, bool createdByCaller = false)
    {
        var accounts = AccountsDatabase.ConnectionString(configuration);
        var created = await AccountsDatabase.EnsureExistsAsync(accounts, configuration["Backup:MaintenanceDatabase"]
            ?? "postgres", cancellationToken) || createdByCaller
            || AccountsDatabase.CreatedByThisProcess(accounts);
        // Servers of a cluster starting together after a power cut both migrate; EF's own lock let a second one
        // apply a migration the first had just applied. One at a time, on the accounts database itself.
        await using (var guard = new Npgsql.NpgsqlConnection(accounts))
        {
            await guard.OpenAsync(cancellationToken);
            await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({MigrateLockKey})", guard))
                await take.ExecuteNonQueryAsync(cancellationToken);
            try { await db.Database.MigrateAsync(cancellationToken); }
            finally
            {
                await using var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({MigrateLockKey})",
                    guard);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        if (created && configuration.GetConnectionString("Default") is { Length: > 0 } application
            && await AccountsDatabase.MoveLegacyAccountsAsync(application, accounts, cancellationToken) is { } moved)
            logger.LogWarning("{Message}", moved);
    }

    /// <summary>Ensures the Administrator role exists and carries the manage-backups permission claim.</summary>
    public async Task EnsureRolesAsync()
    {
        // Two app servers of a cluster starting together would both create the role (a concurrency failure): one at
        // a time, the second then finds it.
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({RolesLockKey})");
        await EnsureRolesLockedAsync();
        await transaction.CommitAsync();
    }

    /// <summary>pg_advisory_lock key of the accounts database's migrations ("BMmigr" in ASCII).</summary>
    private const long MigrateLockKey = 0x424D6D696772;

    /// <summary>pg_advisory_xact_lock key of the roles' creation ("BMroles" in ASCII).</summary>
    private const long RolesLockKey = 0x424D726F6C6573;

    private async Task EnsureRolesLockedAsync()
    {
        var role = await roles.FindByNameAsync(Permissions.AdministratorRole);
        if (role is null)
        {
            role = new IdentityRole(Permissions.AdministratorRole);
            Check(await roles.CreateAsync(role));
        }
        var claims = await roles.GetClaimsAsync(role);
        if (!claims.Any(c => c.Type == Permissions.ClaimType && c.Value == Permissions.ManageBackups))
            Check(await roles.AddClaimAsync(role, new Claim(Permissions.ClaimType, Permissions.ManageBackups)));
    }

    public async Task<ApplicationUser> CreateAsync(string email, string password, bool administrator)
    {
        if (await users.FindByEmailAsync(email) is not null)
            throw new UserAccountException($"A user with the e-mail {email} already exists.");
        await EnsureRolesAsync();
        var user = new ApplicationUser { UserName = email, Email = email, EmailConfirmed = true };
        Check(await users.CreateAsync(user, password));
        if (administrator) Check(await users.AddToRoleAsync(user, Permissions.AdministratorRole));
        return user;
    }

    /// <summary>Adds or removes the Administrator role; the security stamp changes, so open sessions lose the
    /// permission within a minute.</summary>
    public async Task SetAdministratorAsync(string email, bool administrator)
    {
        var user = await users.FindByEmailAsync(email)
            ?? throw new UserAccountException($"There is no user with the e-mail {email}.");
        await EnsureRolesAsync();
        var isAdministrator = await users.IsInRoleAsync(user, Permissions.AdministratorRole);
        if (administrator && !isAdministrator) Check(await users.AddToRoleAsync(user, Permissions.AdministratorRole));
        if (!administrator && isAdministrator) Check(
            await users.RemoveFromRoleAsync(user, Permissions.AdministratorRole));
        Check(await users.UpdateSecurityStampAsync(user));
    }

    public Task<bool> AnyUsersAsync() => users.Users.AnyAsync();

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded) throw new UserAccountException(
            string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}
