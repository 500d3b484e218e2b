using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Runs one of the repository's scripts as a new user would type it: from the checkout's folder, under a given umask,
/// with only a login shell's environment (none of the test run's settings), output collected as it comes.
/// </summary>
public sealed class ScriptProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ScriptProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;

    public static ScriptProcess Start(string folder, string umask, IReadOnlyDictionary<string, string> environment,
        params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = folder, UseShellExecute = false,
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"umask {umask} && exec \"$@\"");
        start.ArgumentList.Add("script");
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var name in new[] { "PATH", "HOME", "USER", "LANG", "NUGET_PACKAGES", "DOTNET_ROOT" })
            if (Environment.GetEnvironmentVariable(name) is { } value) start.Environment[name] = value;
        // No build servers left running after the script's publish.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        return new ScriptProcess(process);
    }

    /// <summary>Runs the script to its end; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string folder, string umask,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] arguments)
    {
        await using var script = Start(folder, umask, environment, arguments);
        using var cancel = new CancellationTokenSource(timeout);
        await script._process.WaitForExitAsync(cancel.Token);
        script._process.WaitForExit(); // drains the asynchronous readers
        return (script._process.ExitCode, script.Output);
    }

    /// <summary>Waits until the output matches <paramref name="pattern"/>; fails with the output when the script
    /// ends or the time runs out first.</summary>
    public async Task<Match> WaitForAsync(string pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = Regex.Match(Output, pattern);
            if (match.Success) return match;
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException(
                    $"'{pattern}' never appeared (exited: {_process.HasExited}). Output:\n{Output}");
            await Task.Delay(250);
        }
    }

    /// <summary>Stops the script as Ctrl-C would (SIGINT to its process), then kills what is left.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            var pid = _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (var kill = Process.Start("kill", ["-INT", pid])) await kill.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
