using BackupManager.Web.Identity;

namespace BackupManager.Web.Commands;

public sealed class ListTokensCommand(UserAccountService accounts, PersonalAccessTokenService tokens) : IConsoleCommand
{
    public string Name => "list-tokens";
    public string Usage => "";
    public string Summary => "Lists personal access tokens (never the secrets).";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        await accounts.MigrateAsync(cancellationToken);
        foreach (var t in await tokens.ListAsync(cancellationToken: cancellationToken))
            Console.WriteLine($"{t.Id}  {t.Prefix}…  {t.Name,-20} {t.UserEmail,-30} {TokenState(t)}");
        return ExitCodes.Success;
    }

    private static string TokenState(TokenSummary t) =>
        t.RevokedAt is not null ? "revoked"
        : t.ExpiresAt is { } expires ? (expires <= DateTimeOffset.UtcNow ? $"expired {expires:u}"
            : $"active, expires {expires:u}")
        : "active, never expires";
}
