namespace BackupManager.Web.Commands;

/// <summary>
/// One <c>app:*</c> command. Commands only read their arguments, call a service and print; the logic lives in the
/// services so the page and the API do the same thing. Output for programs goes to stdout, everything else to stderr.
/// </summary>
public interface IConsoleCommand
{
    /// <summary>The name after "app:", e.g. "create-backup".</summary>
    string Name { get; }
    string Usage { get; }
    string Summary { get; }
    Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}
