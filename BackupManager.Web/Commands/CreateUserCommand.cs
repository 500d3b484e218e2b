using BackupManager.Web.Identity;

namespace BackupManager.Web.Commands;

/// <summary>app:create-admin and app:create-user: a new account, with or without the manage-backups
/// permission.</summary>
public sealed class CreateUserCommand(UserAccountService accounts, bool administrator) : IConsoleCommand
{
    public string Name => administrator ? "create-admin" : "create-user";
    public string Usage => "<email>";
    public string Summary => administrator
        ? "Creates a user in the Administrator role (manage-backups). The password comes from stdin, or a prompt on a "
            + "terminal."
        : "Creates a user without any permission. The password comes from stdin, or a prompt on a terminal.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var email = new CommandLine(arguments, []).SinglePositional("e-mail address");
        await accounts.MigrateAsync(cancellationToken);
        await accounts.CreateAsync(email, PasswordInput.Read(), administrator);
        Console.Error.WriteLine($"Created {(administrator ? "administrator" : "user")} {email}.");
        return ExitCodes.Success;
    }
}
