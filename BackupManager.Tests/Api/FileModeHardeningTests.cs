using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Api;

/// <summary>
/// Issue 15's private files whatever the umask: the backup folder 0700 and its files 0600, whether the app runs as a
/// process under umask 022 or the engine is used on its own.
/// </summary>
[Collection(RunsAloneCollection.Name)] // sets the process's umask
public sealed class FileModeHardeningTests
{
    [Fact]
    public async Task Under_umask_022_the_folder_is_0700_files_0600_and_older_readable_files_are_tightened_at_start()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        File.SetUnixFileMode(h.BackupDirectory, (UnixFileMode)0x1ED); // 0755, as an older version left it
        File.WriteAllText(Path.Combine(h.BackupDirectory, "copied-by-hand.txt"), "x");
        File.SetUnixFileMode(Path.Combine(h.BackupDirectory, "copied-by-hand.txt"), (UnixFileMode)0x1A4); // 0644

        var env = AppProcess.EnvironmentFor(h);
        var result = await RunUnderUmask022Async(env, "app:create-backup");

        Assert.True(result.ExitCode == 0, result.Stderr);
        // Said once, as one plain sentence (not also as a log line).
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(
            result.Stderr, "Made 2 file\\(s\\) and folder\\(s\\)"));
        Assert.Equal("700", Mode(h.BackupDirectory));
        foreach (var file in Directory.GetFiles(h.BackupDirectory))
            Assert.True(Mode(file) == "600", $"{Path.GetFileName(file)} is {Mode(file)}");
        Assert.Contains(Directory.GetFiles(h.BackupDirectory), f => f.EndsWith(".zip", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_engine_makes_its_files_0600_by_itself_whatever_the_umask_of_its_host()
    {
        // The usual umask (022), whatever a web host started earlier in this process set; no Program.cs here.
        using var usual = ProcessUmask.Set(0x12);
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var backup = await h.CreateBackupAsync();
        await h.Engine.SetPinnedAsync(backup.Filename, true, "test");
        h.Get<BackupManager.Core.Audit.AuditLog>().Record("test", null, "create", backup.Filename, "succeeded");
        await h.RestoreAsync(backup.Filename);

        var files = Directory.GetFiles(
            h.BackupDirectory, "*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = true });
        Assert.Contains(files, f => f.EndsWith(".zip", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("audit.log", StringComparison.Ordinal));
        foreach (var file in files) Assert.True(Mode(file) == "600", $"{Path.GetFileName(file)} is {Mode(file)}");
    }

    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);

    private static async Task<AppProcess.Result> RunUnderUmask022Async(
        Dictionary<string, string> env, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("umask 022; exec dotnet \"$@\"");
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(AppProcess.WebAssemblyPath);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new AppProcess.Result(process.ExitCode, await stdout, await stderr);
    }
}
