using BackupManager.Web.Identity;

namespace BackupManager.Web.Commands;

/// <summary>app:revoke-token and app:list-tokens.</summary>
public sealed class RevokeTokenCommand(UserAccountService accounts, PersonalAccessTokenService tokens) : IConsoleCommand
{
    public string Name => "revoke-token";
    public string Usage => "<token-id|prefix>";
    public string Summary => "Revokes a personal access token by its id or the prefix app:list-tokens shows.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var key = new CommandLine(arguments, []).SinglePositional("token id or prefix");
        await accounts.MigrateAsync(cancellationToken);
        if (!await tokens.RevokeAsync(key, cancellationToken: cancellationToken,
            actedBy: new Core.Jobs.Actor(ConsoleUser.Name, null)))
        {
            Console.Error.WriteLine(
                $"Error: no single active token matches '{key}'. List them with app:list-tokens.");
            return ExitCodes.NotFound;
        }
        Console.Error.WriteLine("Revoked.");
        return ExitCodes.Success;
    }
}
