using System.Text.Json;
using BackupManager.Core;
using BackupManager.Core.Locking;
using BackupManager.Tests.Engine;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Commands;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Commands;

/// <summary>The app:* commands, run as separate processes of the real executable.</summary>
public sealed class ConsoleCommandTests
{
    [Fact]
    public async Task Every_command_is_found_by_the_name_it_answers_to_and_help_lists_them_all()
    {
        // Commands are resolved by name alone, so a backup command never builds Identity or EF Core.
        await using var host = await WebAppHost.StartAsync();
        await using var scope = host.Factory.Services.CreateAsyncScope();
        var all = ConsoleCommandRunner.All(scope.ServiceProvider).ToList();
        Assert.Equal(21, all.Count); // the commands the README documents
        Assert.Equal(all.Count, all.Select(c => c.Name).Distinct().Count());
        foreach (var command in all)
        {
            var byName = scope.ServiceProvider.GetKeyedService<IConsoleCommand>(command.Name);
            Assert.True(
                byName is not null && byName.GetType() == command.GetType() && byName.Name == command.Name,
                $"app:{command.Name} is not registered under its own name");
        }

        var env = AppProcess.EnvironmentFor(host.Harness);
        var help = await AppProcess.RunAsync(env, null, "app:help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in all) Assert.Contains($"app:{command.Name} ", help.Stderr);
        var unknown = await AppProcess.RunAsync(env, null, "app:make-coffee");
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("Unknown command app:make-coffee.", unknown.Stderr);
        Assert.Contains("app:create-backup ", unknown.Stderr);
    }

    [Fact]
    public async Task Create_prints_the_filename_and_list_json_describes_it()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);

        var created = await AppProcess.RunAsync(env, null, "app:create-backup");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var filename = created.Stdout.Trim();
        Assert.Matches("^backup-[0-9-]{19}\\.zip$", filename);
        Assert.True(File.Exists(h.PathOf(filename)));

        var listed = await AppProcess.RunAsync(env, null, "app:list-backups", "--json");
        Assert.Equal(0, listed.ExitCode);
        var row = Assert.Single(JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray());
        Assert.Equal(filename, row.GetProperty("filename").GetString());
        Assert.Equal(new FileInfo(h.PathOf(filename)).Length, row.GetProperty("size").GetInt64());
        Assert.True(row.GetProperty("created_at").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
        Assert.Equal("manual", row.GetProperty("trigger").GetString());
        Assert.Equal(["database", "files"], row.GetProperty("contains").EnumerateArray().Select(e => e.GetString()));

        var verified = await AppProcess.RunAsync(env, null, "app:verify-backup", filename);
        Assert.Equal(0, verified.ExitCode);
        Assert.Contains("OK", verified.Stdout);
    }

    [Fact]
    public async Task Commands_log_warnings_only_unless_the_operator_raises_the_level_in_the_environment()
    {
        // The unexpected-error message tells the operator to rerun with Logging__LogLevel__Default=Debug: that must
        // work.
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);

        var quiet = await AppProcess.RunAsync(env, null, "app:create-backup", "--only-files");
        Assert.True(quiet.ExitCode == 0, quiet.Stderr);
        Assert.DoesNotContain("Created backup", quiet.Stderr);

        env["Logging__LogLevel__Default"] = "Information";
        var verbose = await AppProcess.RunAsync(env, null, "app:create-backup", "--only-files");
        Assert.True(verbose.ExitCode == 0, verbose.Stderr);
        Assert.Contains($"Created backup {verbose.Stdout.Trim()}", verbose.Stderr);
    }

    [Fact]
    public async Task Restore_without_a_terminal_refuses_unless_forced_and_then_restores()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);
        var filename = (await AppProcess.RunAsync(env, null, "app:create-backup", "--only-db")).Stdout.Trim();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed' WHERE id = 1");

        var refused = await AppProcess.RunAsync(env, "", "app:restore-backup", filename);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr);
        Assert.Equal("changed", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));

        var forced = await AppProcess.RunAsync(env, "", "app:restore-backup", filename, "--only-db", "--force");
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Contains("Safety backup", forced.Stderr);
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
    }

    [Fact]
    public async Task Failures_exit_non_zero_with_the_reason_on_stderr_and_no_stack_trace()
    {
        await using var h = await EngineHarness.CreateAsync();
        var env = AppProcess.EnvironmentFor(h);

        var notFound = await AppProcess.RunAsync(env, null, "app:verify-backup", "backup-2020-01-01-00-00-00.zip");
        Assert.Equal(5, notFound.ExitCode);
        Assert.Contains("There is no backup named backup-2020-01-01-00-00-00.zip", notFound.Stderr);

        var traversal = await AppProcess.RunAsync(env, null, "app:delete-backup", "../../etc/passwd", "--force");
        Assert.Equal(2, traversal.ExitCode);
        Assert.Contains("is not a backup filename", traversal.Stderr);

        var usage = await AppProcess.RunAsync(env, null, "app:create-backup", "--only-db", "--only-files");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("cannot be combined", usage.Stderr);

        var badPassword = await AppProcess.RunAsync(
            AppProcess.EnvironmentFor(h, TestPostgres.With(h.Database.ConnectionString, h.Database.Name, "nope")),
            null,
            "app:create-backup");
        Assert.Equal(1, badPassword.ExitCode);
        Assert.Contains("refused the login", badPassword.Stderr);

        foreach (var result in new[] { notFound, traversal, usage, badPassword })
            Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Theory]
    [InlineData("MAX_BACKUPS", "ten", "MAX_BACKUPS='ten'")]
    [InlineData("BACKUP_SCHEDULE", "every night", "BACKUP_SCHEDULE='every night'")]
    [InlineData("Backup__TimeZone", "Mars/Olympus", "Backup__TimeZone='Mars/Olympus'")]
    [InlineData("Backup__CommandTimeout", "soon", "wrong type")]
    [InlineData("Backup__DumpCompressionLevel", "12", "Backup__DumpCompressionLevel=12 must be from 0")]
    [InlineData("Backup__RestoreJobs", "-1", "Backup__RestoreJobs=-1 must be from 0")]
    [InlineData("Backup__Pitr__KeepDays", "0", "Backup__Pitr__KeepDays=0 must be from 1")]
    [InlineData("Backup__Pitr__MaxLagSeconds", "0", "Backup__Pitr__MaxLagSeconds=0 must be at least 1")]
    [InlineData("Backup__Pitr__MaxSlotRetainedBytes", "1024", "Backup__Pitr__MaxSlotRetainedBytes=1024 must be")]
    [InlineData("Backup__Pitr__Connection", "Host=x;Bogus Key=1", "Backup__Pitr__Connection is not a valid")]
    [InlineData("Backup__Pitr__OffsitePartialSeconds", "1", "Backup__Pitr__OffsitePartialSeconds=1 must be from 5")]
    [InlineData("Backup__Pitr__Enabled", "maybe", "wrong type")]
    [InlineData("Backup__Pitr__BaseBackupSchedule", "weekly", "Backup__Pitr__BaseBackupSchedule='weekly' is not a")]
    public async Task A_setting_that_does_not_parse_stops_the_program_naming_the_setting_and_value(
        string setting, string value, string expected)
    {
        await using var h = await EngineHarness.CreateAsync();
        var env = AppProcess.EnvironmentFor(h);
        env[setting] = value;

        var result = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Configuration error", result.Stderr);
        Assert.Contains(expected, result.Stderr);
    }

    [Fact]
    public async Task The_lock_is_shared_across_processes()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        using (h.Get<BackupOperationLock>().Acquire("restore", "web:alice"))
        {
            var result = await AppProcess.RunAsync(AppProcess.EnvironmentFor(h), null, "app:create-backup");
            Assert.Equal(3, result.ExitCode);
            Assert.Contains("Another backup operation is running (restore by web:alice", result.Stderr);
        }
        Assert.Empty(await h.Engine.ListAsync());
    }

    [Fact]
    public async Task A_create_killed_midway_leaves_no_listed_backup_and_the_next_start_removes_the_leftover()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        // Enough incompressible data that the archive is still being written when we kill the process.
        for (var i = 0; i < 40; i++)
            TestFolder.WriteFile(Path.Combine(h.Xrays, "bulk", $"scan-{i}.dcm"), TestFolder.RandomBytes(5_000_000));
        var env = AppProcess.EnvironmentFor(h);

        using (var process = AppProcess.Start(env, "app:create-backup"))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Directory.GetFiles(h.BackupDirectory, ".backup-*").Length == 0
                   && !process.HasExited
                   && DateTime.UtcNow < deadline)
                await Task.Delay(5);
            Assert.False(process.HasExited, "the create finished before it could be killed; make the data larger");
            await Task.Delay(50);
            process.Kill(entireProcessTree: true); // SIGKILL: no cleanup code runs
            await process.WaitForExitAsync();
        }

        Assert.Empty(await h.Engine.ListAsync());
        Assert.NotEmpty(Directory.GetFiles(h.BackupDirectory, ".backup-*"));

        var next = await AppProcess.RunAsync(env, null, "app:list-backups", "--json");
        Assert.Equal(0, next.ExitCode);
        Assert.Contains("incomplete backup file", next.Stderr);
        Assert.Equal("[]", next.Stdout.Trim());
        SafetyTests.AssertNoArchiveFiles(h.BackupDirectory);
    }

    [Fact]
    public async Task Prune_dry_run_prints_every_backup_with_keep_or_delete_and_the_reason()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 5, withDatabase: false);
        File.WriteAllText(Path.Combine(h.Documents, "a.txt"), "a");
        for (var i = 0; i < 3; i++) await h.CreateBackupAsync(BackupScope.FilesOnly);
        var env = AppProcess.EnvironmentFor(h);
        env["MAX_BACKUPS"] = "1";

        var result = await AppProcess.RunAsync(env, null, "app:prune-backups", "--dry-run");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("keep", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.Contains("would delete", l));
        Assert.All(lines.Skip(1), l => Assert.Contains("MAX_BACKUPS=1", l));
        Assert.Equal(3, (await h.Engine.ListAsync()).Count);
    }

    [Fact]
    public async Task Seed_demo_fills_an_empty_database_once_and_never_touches_one_with_tables()
    {
        await using var h = await EngineHarness.CreateAsync();
        var env = AppProcess.EnvironmentFor(h);

        var first = await AppProcess.RunAsync(env, null, "app:seed-demo");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(2000L, await h.Database.ScalarAsync<long>("SELECT count(*) FROM patients"));
        var images = Directory.GetFiles(Path.Combine(h.Xrays, "xrays"), "*.png");
        Assert.Equal(12, images.Length);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(images[0]).Take(4));

        var second = await AppProcess.RunAsync(env, null, "app:seed-demo");
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("already has tables", second.Stderr);
        Assert.Equal(2000L, await h.Database.ScalarAsync<long>("SELECT count(*) FROM patients"));
    }

    [Fact]
    public async Task Backup_health_exits_non_zero_until_a_recent_backup_exists()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var env = AppProcess.EnvironmentFor(h);

        var before = await AppProcess.RunAsync(env, null, "app:backup-health");
        Assert.Equal(1, before.ExitCode);
        Assert.Contains("FAIL recent-backup", before.Stdout);
        Assert.EndsWith("unhealthy", before.Stdout.Trim());

        await h.CreateBackupAsync();
        var after = await AppProcess.RunAsync(env, null, "app:backup-health");
        Assert.True(after.ExitCode == 0, after.Stdout + after.Stderr);
        Assert.EndsWith("healthy", after.Stdout.Trim());
    }
}
