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

    [Fact]
    public void The_log_rotates_by_size_keeping_n_files_and_reads_newest_first_across_them()
    {
        using var folder = new TestFolder();
        var log = new AuditLog(folder.Path, TimeProvider.System, maxFileBytes: 2_000, keepFiles: 3);
        for (var i = 0; i < 100; i++) log.Record($"user{i}", null, "create", null, AuditOutcome.Succeeded);

        var files = Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["audit.log", "audit.log.1", "audit.log.2"], files);
        Assert.All(Directory.GetFiles(folder.Path), f => Assert.True(new FileInfo(f).Length <= 2_000));
        var newest = log.Read(take: 30).Select(e => e.Actor).ToList();
        Assert.Equal(Enumerable.Range(70, 30).Reverse().Select(i => $"user{i}"), newest);
        Assert.Equal(["user89", "user88"], log.Read(skip: 10, take: 2).Select(e => e.Actor));
    }

    [Fact]
    public void Every_field_is_capped_so_one_request_cannot_grow_the_log_by_a_megabyte()
    {
        using var folder = new TestFolder();
        var log = new AuditLog(folder.Path, TimeProvider.System);
        log.Record(new string('e', 1 << 20), new string('a', 5000), "login", new string('t', 5000), AuditOutcome.Failed,
            new string('d', 5000));

        Assert.InRange(new FileInfo(Path.Combine(folder.Path, AuditLog.FileName)).Length, 1, 4 * 1024 + 600);
        var entry = log.Read().Single();
        Assert.Equal(AuditLog.MaxActorLength + "…[cut]".Length, entry.Actor.Length);
        Assert.Equal(AuditLog.MaxFieldLength + "…[cut]".Length, entry.Detail!.Length);
    }
}

public sealed class AuditLogRefusalsTests
{
    [Fact]
    public void Refusals_rotate_in_a_file_of_their_own_and_are_read_merged_with_the_actions_newest_first()
    {
        using var folder = new TestFolder();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new AuditLog(folder.Path, clock, maxFileBytes: 2_000, keepFiles: 2);
        log.Record("alice", null, "create", null, AuditOutcome.Succeeded);
        clock.Advance(TimeSpan.FromSeconds(1));
        log.RecordRefusal("anonymous", "10.0.0.1", "api", null, AuditOutcome.Refused);
        clock.Advance(TimeSpan.FromSeconds(1));
        log.Record("bob", null, "restore", null, AuditOutcome.Succeeded);
        for (var i = 0; i < 200; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            log.RecordRefusal($"guess{i}", "10.0.0.2", "login", null, AuditOutcome.Failed);
        }

        Assert.Equal(["alice", "bob"], File.ReadAllLines(Path.Combine(folder.Path, AuditLog.FileName))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("actor").GetString()));
        Assert.True(File.Exists(Path.Combine(folder.Path, AuditLog.RefusalsFileName + ".1")));
        var all = log.Read(take: 1_000);
        Assert.Equal("guess199", all[0].Actor);
        Assert.Equal(["bob", "alice"], all.TakeLast(2).Select(e => e.Actor));
        Assert.Equal(["guess198", "guess197"], log.Read(skip: 1, take: 2).Select(e => e.Actor));
    }
}
