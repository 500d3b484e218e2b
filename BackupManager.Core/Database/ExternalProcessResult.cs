namespace BackupManager.Core.Database;

public sealed record ExternalProcessResult(int ExitCode, string StandardOutput, string StandardError);
