using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>A restore whose declared files do not fit the target's disk is refused with the figures, writing
/// nothing.</summary>
public sealed class RestoreSpaceTests
{
    [Fact]
    public async Task Files_that_would_not_fit_the_target_disk_are_refused_before_anything_is_written()
    {
        await using var made = await EngineHarness.CreateAsync(withDatabase: false);
        TestFolder.WriteFile(Path.Combine(made.Xrays, "scan.dcm"), new byte[3 << 20]); // compresses to almost nothing
        var backup = await made.CreateBackupAsync(BackupScope.FilesOnly);
        using var disk = new TestFolder();
        var mount = Path.Combine(disk.Path, "small-disk");
        Directory.CreateDirectory(mount);
        Assert.Equal(0, Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount));
        try
        {
            await using var h = await EngineHarness.CreateAsync(withDatabase: false, configure: o =>
                o.Paths = [Path.Combine(mount, "xrays"), Path.Combine(mount, "documents")]);
            File.Copy(made.PathOf(backup.Filename), h.PathOf(backup.Filename));

            var error = await Assert.ThrowsAsync<BackupException>(() => h.Engine.RestoreAsync(
                new RestoreBackupRequest(backup.Filename, BackupScope.FilesOnly, "test@clinic", AllowForeign: true)));

            Assert.Contains("refused before anything was written", error.Message);
            Assert.Contains("3.0 MiB of files", error.Message);
            Assert.Contains("2.0 MiB free", error.Message);
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(mount, "*", SearchOption.AllDirectories),
                p => p.Contains(".bm-", StringComparison.Ordinal));

            // The same archive uploaded: refused at intake with the same figures, and not kept.
            File.Delete(h.PathOf(backup.Filename));
            await using var upload = File.OpenRead(made.PathOf(backup.Filename));
            var refused = await Assert.ThrowsAsync<BackupException>(() =>
                h.Engine.ImportAsync(upload, long.MaxValue, "test@clinic"));
            Assert.Contains("could never be restored here", refused.Message);
            Assert.Contains("2.0 MiB free", refused.Message);
            Assert.Empty(await h.Engine.ListAsync());
        }
        finally
        {
            Run("umount", "-l", mount);
        }
    }

    private static int Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
