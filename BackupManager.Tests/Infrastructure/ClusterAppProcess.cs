using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// One instance of a cluster: the real web app as its own process with Backup__Cluster__Enabled=true on a port and a
/// home folder of its own (as on a second server: no key ring or file shared through the home directory), over the
/// harness's database and backup folder. <see cref="Kill"/> is kill -9.
/// </summary>
public sealed class ClusterAppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ClusterAppProcess(string name, Process process, Uri baseAddress, string home)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        Home = home;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public string Home { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The settings every node of one cluster shares (the harness's database and folders, cluster on).
    /// </summary>
    public static Dictionary<string, string> ClusterEnvironment(EngineHarness harness)
    {
        var environment = AppProcess.EnvironmentFor(harness);
        // Development serves the page's static assets from the build output (browser tests open the page).
        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        environment["DOTNET_ENVIRONMENT"] = "Development";
        environment["Backup__Cluster__Enabled"] = "true";
        environment["Backup__SchedulesEnabled"] = "false";
        environment["Backup__TimeZone"] = "UTC";
        return environment;
    }

    /// <summary>Starts a node and waits until it answers /health/live.</summary>
    public static async Task<ClusterAppProcess> StartAsync(
        EngineHarness harness, string name, Action<Dictionary<string, string>>? settings = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var environment = ClusterEnvironment(harness);
            var port = FreePort();
            var home = harness.Folder.Sub("home-" + name);
            environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            environment["HOME"] = home;
            environment["Backup__Cluster__InstanceName"] = name;
            settings?.Invoke(environment);
            var node = new ClusterAppProcess(
                name, AppProcess.Start(environment), new Uri($"http://127.0.0.1:{port}/"), home);
            try
            {
                await node.WaitLiveAsync(TimeSpan.FromSeconds(90));
                return node;
            }
            // the probed port was taken before the node bound it (another test's connection): another port
            catch (InvalidOperationException) when (attempt < 3
                && node.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Starts several nodes at the same moment (as after a power cut); if one fails, the others are stopped.
    /// </summary>
    public static async Task<ClusterAppProcess[]> StartTogetherAsync(
        EngineHarness harness, string[] names, Action<Dictionary<string, string>>? settings = null)
    {
        var starting = names.Select(name => StartAsync(harness, name, settings)).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var node in starting.Where(t => t.IsCompletedSuccessfully)) await node.Result.DisposeAsync();
            throw;
        }
    }

    public HttpClient Client(string? token = null, CookieContainer? cookies = null)
    {
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
        };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Bearer", token);
        return client;
    }

    /// <summary>kill -9: the instance gets no chance to clean up, as when its server dies.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private async Task WaitLiveAsync(TimeSpan timeout)
    {
        using var client = Client();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Node {Name} exited with {_process.ExitCode}:\n{Output}");
            try
            {
                // short: a port someone else listens on would otherwise hold the probe for the client's minute
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if ((await client.GetAsync("/health/live", probe.Token)).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { /* not listening yet */ }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Node {Name} did not answer /health/live within {timeout}:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
