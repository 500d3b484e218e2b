using System.Diagnostics;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Runs the real BackupManager.Web executable (as an operator would) with a test's settings in its environment.
/// </summary>
public sealed class AppProcess
{
    public static string WebAssemblyPath
    {
        get
        {
            // The Web project's own build output sits beside the test project's: same configuration and framework.
            var testBin = AppContext.BaseDirectory.TrimEnd('/');
            var webBin = testBin.Replace(
                "/BackupManager.Tests/bin/", "/BackupManager.Web/bin/", StringComparison.Ordinal);
            var path = Path.Combine(webBin, "BackupManager.Web.dll");
            if (!File.Exists(path))
                throw new FileNotFoundException($"Build BackupManager.Web first; {path} is missing.");
            return path;
        }
    }

    public static Dictionary<string, string> EnvironmentFor(EngineHarness h, string? connectionString = null) => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__Default"] = connectionString ?? h.Database.ConnectionString,
        ["Backup__Directory"] = h.BackupDirectory,
        ["Backup__Paths__0"] = h.Xrays,
        ["Backup__Paths__1"] = h.Documents,
        ["MAX_BACKUPS"] = h.Options.MaxBackups.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        StartUnder([], environment, arguments);

    /// <summary>Starts the app through <paramref name="wrapper"/>: a program and its arguments, followed by
    /// "dotnet", the app and <paramref name="arguments"/> (the wrapper execs them).</summary>
    public static Process StartUnder(
        IReadOnlyList<string> wrapper, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in wrapper.Skip(1)) start.ArgumentList.Add(a);
        if (wrapper.Count > 0) start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(WebAssemblyPath);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        return Process.Start(start)!;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(
        IReadOnlyDictionary<string, string> environment, string? stdin, params string[] arguments) =>
        RunUnderAsync([], environment, stdin, arguments);

    public static async Task<Result> RunUnderAsync(IReadOnlyList<string> wrapper,
        IReadOnlyDictionary<string, string> environment, string? stdin, params string[] arguments)
    {
        using var process = StartUnder(wrapper, environment, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
