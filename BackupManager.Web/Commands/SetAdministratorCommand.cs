using BackupManager.Web.Identity;

namespace BackupManager.Web.Commands;

/// <summary>app:grant-admin and app:revoke-admin: add or remove the Administrator role (and with it
/// manage-backups).</summary>
public sealed class SetAdministratorCommand(UserAccountService accounts, bool grant) : IConsoleCommand
{
    public string Name => grant ? "grant-admin" : "revoke-admin";
    public string Usage => "<email>";
    public string Summary => grant ? "Gives a user the Administrator role (manage-backups)."
        : "Takes the Administrator role away; open sessions lose it within a minute.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var email = new CommandLine(arguments, []).SinglePositional("e-mail address");
        await accounts.MigrateAsync(cancellationToken);
        await accounts.SetAdministratorAsync(email, grant);
        Console.Error.WriteLine(grant ? $"{email} is now an administrator."
            : $"{email} is no longer an administrator.");
        return ExitCodes.Success;
    }
}
