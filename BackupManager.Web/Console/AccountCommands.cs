using System.Text;
using BackupManager.Web.Identity;

namespace BackupManager.Web.Console;

/// <summary>Reads a password: from standard input when it is not a terminal, otherwise with a hidden prompt,
/// twice.</summary>
internal static class PasswordInput
{
    public static string Read()
    {
        if (System.Console.IsInputRedirected)
            return System.Console.In.ReadLine()?.TrimEnd('\r', '\n')
                ?? throw new UsageException("No password on standard input.");
        var first = Prompt("Password: ");
        if (Prompt("Repeat it: ") != first) throw new UsageException("The two passwords differ.");
        return first;
    }

    private static string Prompt(string label)
    {
        System.Console.Error.Write(label);
        var text = new StringBuilder();
        while (true)
        {
            var key = System.Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; }
            else if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        System.Console.Error.WriteLine();
        return text.ToString();
    }
}

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
        System.Console.Error.WriteLine($"Created {(administrator ? "administrator" : "user")} {email}.");
        return ExitCodes.Success;
    }
}

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
        System.Console.Error.WriteLine(grant ? $"{email} is now an administrator."
            : $"{email} is no longer an administrator.");
        return ExitCodes.Success;
    }
}

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
            System.Console.Error.WriteLine(
                $"--expires-in {text} is not a lifetime; give a number followed by h (hours), d (days) or w (weeks), "
                + $"such as 90d.");
            return ExitCodes.Usage;
        }
        await accounts.MigrateAsync(cancellationToken);
        System.Console.WriteLine(await tokens.CreateAsync(email, line.Value("--name") ?? "console", cancellationToken,
            lifetime, new Core.Jobs.Actor(ConsoleUser.Name, null)));
        return ExitCodes.Success;
    }
}

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
            System.Console.Error.WriteLine(
                $"Error: no single active token matches '{key}'. List them with app:list-tokens.");
            return ExitCodes.NotFound;
        }
        System.Console.Error.WriteLine("Revoked.");
        return ExitCodes.Success;
    }
}

public sealed class ListTokensCommand(UserAccountService accounts, PersonalAccessTokenService tokens) : IConsoleCommand
{
    public string Name => "list-tokens";
    public string Usage => "";
    public string Summary => "Lists personal access tokens (never the secrets).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        await accounts.MigrateAsync(cancellationToken);
        foreach (var t in await tokens.ListAsync(cancellationToken: cancellationToken))
            System.Console.WriteLine($"{t.Id}  {t.Prefix}…  {t.Name,-20} {t.UserEmail,-30} {TokenState(t)}");
        return ExitCodes.Success;
    }

    private static string TokenState(TokenSummary t) =>
        t.RevokedAt is not null ? "revoked"
        : t.ExpiresAt is { } expires ? (expires <= DateTimeOffset.UtcNow ? $"expired {expires:u}"
            : $"active, expires {expires:u}")
        : "active, never expires";
}
