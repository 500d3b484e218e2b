using BackupManager.Web.Identity;

namespace BackupManager.Web.Commands;

/// <summary>app:create-token: prints a new personal access token (only the token) on stdout.</summary>
public sealed class CreateTokenCommand(UserAccountService accounts, PersonalAccessTokenService tokens) : IConsoleCommand
{
    public string Name => "create-token";
    public string Usage => "<email> [--name NAME] [--expires-in 90d]";
    public string Summary
        => "Creates a personal access token for the API and prints it (shown once); --expires-in takes hours (h), "
        + "days (d) or weeks (w).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = new CommandLine(arguments, [], ["--name", "--expires-in"]);
        var email = line.SinglePositional("e-mail address");
        TimeSpan? lifetime = null;
        if (line.Value("--expires-in") is { } text
            && (lifetime = PersonalAccessTokenService.ParseLifetime(text)) is null)
        {
            Console.Error.WriteLine(
                $"--expires-in {text} is not a lifetime; give a number followed by h (hours), d (days) or w (weeks), "
                + $"such as 90d.");
            return ExitCodes.Usage;
        }
        await accounts.MigrateAsync(cancellationToken);
        Console.WriteLine(await tokens.CreateAsync(email, line.Value("--name") ?? "console", cancellationToken,
            lifetime, new Core.Jobs.Actor(ConsoleUser.Name, null)));
        return ExitCodes.Success;
    }
}
