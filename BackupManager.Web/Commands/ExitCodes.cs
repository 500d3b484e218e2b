namespace BackupManager.Web.Commands;

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
