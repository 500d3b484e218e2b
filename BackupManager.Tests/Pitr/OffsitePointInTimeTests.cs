using System.Globalization;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Pitr;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Pitr;

/// <summary>
/// Point-in-time recovery through a destination on the real servers: WAL from pg_receivewal and a base backup go to
/// s3rver or sshd, age-encrypted and once each; a new server (the second cluster) with only the configuration and
/// the identity restores to a time between two rows through the console command.
/// </summary>
public sealed class OffsitePointInTimeTests
{
    [Theory]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task A_new_server_restores_to_a_time_between_two_rows_from_the_destination(string kind)
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var destination = TestDestinations.Of(kind, keys);
        await using var pitr = await PitrScenario.StartAsync(configureBackup: o =>
        {
            o.Encryption.Recipients = [recipient];
            o.Destinations["offsite"] = destination;
        });
        var h = pitr.Harness;
        var based = await pitr.BaseBackupAsync();
        await h.Database.ExecuteAsync("CREATE TABLE notes (id int, text text); INSERT INTO notes VALUES (1, 'before')");
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await h.Database.ExecuteAsync("INSERT INTO notes VALUES (2, 'after')");
        await pitr.SwitchSegmentsAsync(1);
        var copier = h.Get<PitrOffsiteCopier>();
        var first = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));
        Assert.True(first.Succeeded, first.Error);
        Assert.Contains(based.Name, first.Sent);
        // Incremental: what the destination holds is not sent again (a changed partial segment may go again).
        var second = Assert.Single(await copier.CopyAsync(now: true, CancellationToken.None));
        Assert.True(second.Succeeded, second.Error);
        Assert.DoesNotContain(second.Sent, s => first.Sent.Contains(s) && !s.EndsWith(".partial",
            StringComparison.Ordinal));
        // The backups' listing ignores the pitr/ prefix.
        Assert.Empty(await h.Get<OffsiteService>().ListAsync("offsite"));
        await AssertStockAgeReadsASegmentAsync(pitr, destination, identityFile, keys, first);

        // The new server: an empty database of the same name on the second cluster, an empty backup folder.
        var empty = await TestPostgres.CreateDatabaseAsync(
            adminConnectionString: TestPostgres.DisasterRecoveryConnectionString, name: h.Database.Name,
            ownerRole: h.Database.OwnerRole);
        var connection = TestPostgres.With(TestPostgres.DisasterRecoveryConnectionString, empty.Name);
        await using var fresh = await EngineHarness.CreateAsync(database: empty, connectionString: connection);
        var env = OffsiteRecoveryTests.Env(fresh, "offsite", destination, [recipient], connection);
        env["Backup__RestoreConnection"] = empty.ConnectionString;
        static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

        var outside = await AppProcess.RunAsync(env, null, "app:restore-backup", "--from", "offsite", "--identity",
            identityFile, "--to-time", Iso(based.EndedAt.AddMinutes(-10)), "--force");
        Assert.NotEqual(0, outside.ExitCode);
        Assert.Contains("offsite holds no base backup and WAL covering", outside.Stderr);
        Assert.Contains("its point-in-time window is from", outside.Stderr);
        Assert.Empty(await empty.RowsAsync("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(fresh.BackupDirectory, "*.zip"));

        var run = await AppProcess.RunAsync(env, null, "app:restore-backup", "--from", "offsite", "--identity",
            identityFile, "--to-time", Iso(target.ToOffset(TimeSpan.FromHours(1))), "--force");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["1|before"], await empty.RowsAsync("SELECT id, text FROM notes ORDER BY id"));
        Assert.Equal(500, await empty.ScalarAsync<long>("SELECT count(*) FROM patients"));
        Assert.Contains("so only the database was restored", run.Stderr);
        Assert.Contains($"base backup {based.Name} from offsite", run.Stderr);
        var staging = Path.Combine(fresh.BackupDirectory, "pitr");
        Assert.Empty(Directory.EnumerateDirectories(staging, ".tmp-*")); // the staging folder is gone
    }

    /// <summary>The stock age CLI decrypts a copied segment to the bytes of the local one.</summary>
    private static async Task AssertStockAgeReadsASegmentAsync(PitrScenario pitr, DestinationOptions destination,
        string identityFile, TestFolder keys, PitrCopyReport report)
    {
        var segment = report.Sent.Last(s => !s.EndsWith(".partial", StringComparison.Ordinal)
            && !s.Contains('T', StringComparison.Ordinal));
        var encrypted = Path.Combine(keys.Path, segment + ".age");
        await using (var storage = OffsiteService.OpenStorage("offsite", destination))
        await using (var remote = await storage.OpenReadAsync(PitrOffsiteFormat.WalKey(segment, true),
            CancellationToken.None))
        await using (var file = File.Create(encrypted))
            await remote.CopyToAsync(file);
        var decrypted = Path.Combine(keys.Path, segment);
        var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", decrypted, encrypted);
        Assert.True(exit == 0, output);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pitr.Layout.Wal, segment)),
            await File.ReadAllBytesAsync(decrypted));
    }
}
