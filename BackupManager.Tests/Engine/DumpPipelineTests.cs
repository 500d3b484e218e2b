using BackupManager.Core.Database;

namespace BackupManager.Tests.Engine;

/// <summary>What keeps the dump — a backup's critical path — fast: pg_dump writes to its pipe in large pieces.</summary>
public sealed class DumpPipelineTests
{
    [Fact]
    public void Pg_dump_gets_a_1_MiB_stdout_buffer_through_the_stdbuf_library()
    {
        var environment = new Dictionary<string, string> { ["PGPASSWORD"] = "kept" };
        PgDumpRunner.LargeStdoutWrites(environment);
        Assert.True(File.Exists(environment["LD_PRELOAD"].Split(':')[^1]), "coreutils' libstdbuf.so is installed on Debian");
        Assert.Equal("1048576", environment["_STDBUF_O"]);
        Assert.Equal("kept", environment["PGPASSWORD"]);
    }
}
