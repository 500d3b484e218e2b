using System.Diagnostics;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Readers that are not ours: Debian's Info-ZIP <c>unzip -t</c> (what the runbook's restore by hand uses) and Python's
/// <c>zipfile</c>, which refuses a deflate stream that ends without its final block. An archive the engine calls
/// verified must pass both.
/// </summary>
public static class StockReaders
{
    private const string PythonCheck = """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1]) as z:
            for info in z.infolist():
                with z.open(info) as f:
                    while f.read(1 << 20):
                        pass
        print("ok")
        """;

    /// <summary>Null when both readers accept <paramref name="archivePath"/>; otherwise what they said.</summary>
    public static string? Problem(string archivePath)
    {
        var (unzipExit, unzipOutput) = Run("unzip", "-tq", archivePath);
        if (unzipExit != 0) return $"unzip -t: exit {unzipExit}: {unzipOutput}";
        var (pythonExit, pythonOutput) = Run("/usr/bin/python3", "-c", PythonCheck, archivePath);
        return pythonExit == 0 ? null : $"python3 zipfile: exit {pythonExit}: {pythonOutput}";
    }

    public static void AssertReadable(string archivePath)
    {
        var problem = Problem(archivePath);
        Assert.True(problem is null, $"{Path.GetFileName(archivePath)} is refused by a stock reader: {problem}");
    }

    /// <summary>Runs a program with an argument list and returns its exit code and its stdout and stderr.</summary>
    public static (int Exit, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
