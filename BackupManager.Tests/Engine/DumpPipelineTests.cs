using BackupManager.Core;
using BackupManager.Core.Database;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>What keeps the dump — a backup's critical path — fast: pg_dump writes to its pipe in large
/// pieces.</summary>
public sealed class DumpPipelineTests
{
    [Fact]
    public void Pg_dump_gets_a_1_MiB_stdout_buffer_through_the_stdbuf_library()
    {
        var environment = new Dictionary<string, string> { ["PGPASSWORD"] = "kept" };
        PgDumpRunner.LargeStdoutWrites(environment);
        Assert.True(File.Exists(environment["LD_PRELOAD"].Split(':')[^1]),
            "coreutils' libstdbuf.so is installed on Debian");
        Assert.Equal("1048576", environment["_STDBUF_O"]);
        Assert.Equal("kept", environment["PGPASSWORD"]);
    }

    [Fact]
    public async Task The_dump_of_a_real_backup_runs_with_the_large_stdout_buffer()
    {
        // A pg_dump stand-in that records what it was started with, then runs the real one: proves the create path
        // itself passes the buffer settings, not only the helper.
        using var tools = new TestFolder();
        var record = Path.Combine(tools.Path, "started.txt");
        var wrapper = Path.Combine(tools.Path, "pg_dump");
        await File.WriteAllTextAsync(wrapper, $"""
            #!/bin/sh
            printf '%s|%s|%s\n' "$1" "$LD_PRELOAD" "$_STDBUF_O" >> '{record}'
            exec '{PgTools.Locate("pg_dump", null)}' "$@"
            """);
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var h = await EngineHarness.CreateAsync(o => o.PgBinDirectory = tools.Path);
        await h.SeedAsync();

        var created = await h.Engine.CreateAsync(
            new CreateBackupRequest(BackupScope.DatabaseOnly, BackupTrigger.Manual, "test"));
        await h.Engine.VerifyAsync(created.Filename);

        var dump = Assert.Single(File.ReadAllLines(record), line =>
            !line.StartsWith("--version|", StringComparison.Ordinal)).Split('|');
        Assert.EndsWith("libstdbuf.so", dump[1]);
        Assert.Equal("1048576", dump[2]);
    }
}
