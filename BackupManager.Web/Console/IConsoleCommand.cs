namespace BackupManager.Web.Console;

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

/// <summary>Exit codes shared by every command, documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Busy = 3;
    public const int Damaged = 4;
    public const int NotFound = 5;
    /// <summary>The backup was made (or the command ran) but an off-site copy failed.</summary>
    public const int CopyFailed = 6;
}
