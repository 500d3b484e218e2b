using BackupManager.Core.Audit;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

public sealed class AuditLogTests
{
    [Fact]
    public void Entries_are_appended_as_lines_and_read_back_newest_first()
    {
        using var folder = new TestFolder();
        var log = new AuditLog(folder.Path, TimeProvider.System);
        log.Record("alice", "10.0.0.1", "create", "backup-2026-01-01-00-00-00.zip", AuditOutcome.Succeeded);
        log.Record("bob", null, "delete", "backup-2026-01-01-00-00-00.zip", AuditOutcome.Refused, "busy");

        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder.Path, AuditLog.FileName)).Length);
        Assert.Equal(["bob", "alice"], log.Read().Select(e => e.Actor));
    }

    [Fact]
    public void An_audit_log_that_cannot_be_written_never_throws_into_the_audited_operation()
    {
        using var folder = new TestFolder();
        var notAFolder = Path.Combine(folder.Path, "occupied");
        File.WriteAllText(notAFolder, "a file where the backup folder should be");
        var log = new AuditLog(notAFolder, TimeProvider.System);

        var error = Record.Exception(() => log.Record("alice", null, "create", null, AuditOutcome.Succeeded));

        Assert.Null(error);
        Assert.Equal("a file where the backup folder should be", File.ReadAllText(notAFolder));
    }
}
