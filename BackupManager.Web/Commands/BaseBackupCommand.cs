using BackupManager.Core.Pitr;

namespace BackupManager.Web.Commands;

/// <summary>app:base-backup: takes and verifies a base backup for point-in-time recovery.</summary>
public sealed class BaseBackupCommand(BaseBackup baseBackup) : IConsoleCommand
{
    public string Name => "base-backup";
    public string Usage => "";
    public string Summary => "Takes a base backup (pg_basebackup, checked with pg_verifybackup) into pitr/base/ and "
        + "removes base backups and WAL older than Backup__Pitr__KeepDays needs.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        new CommandLine(arguments, []);
        var record = await baseBackup.TakeAsync(cancellationToken);
        Console.WriteLine(record.Name);
        Console.Error.WriteLine($"Base backup {record.Name} taken and verified (WAL {record.StartLsn} to "
            + $"{record.EndLsn}, PostgreSQL {record.ServerVersion}).");
        return ExitCodes.Success;
    }
}
