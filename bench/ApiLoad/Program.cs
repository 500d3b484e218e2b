using System.Diagnostics;
using System.Net.Http.Headers;

// The load driver of bench/api-load.sh: CLIENTS concurrent clients, each sending REQUESTS requests one after another
// (a closed loop, as scripts polling the API do) over its own keep-alive connection. Latency runs from sending a
// request to having read its whole body. Prints one tab-separated line: requests, errors, p50, p95, p99, max (ms),
// wall seconds, then the first error seen (if any). The token comes from API_LOAD_TOKEN, never the command line.
// An optional fourth argument names the status that counts as success (200 unless given): profiling runs point the
// driver at routes that answer 404 to time everything but the listing.
var expected = 200;
if (args.Length is < 3 or > 4 || !int.TryParse(args[1], out var clients) || !int.TryParse(args[2], out var requests)
    || (args.Length == 4 && !int.TryParse(args[3], out expected)))
{
    Console.Error.WriteLine("usage: ApiLoad URL CLIENTS REQUESTS_PER_CLIENT [STATUS] (token in API_LOAD_TOKEN)");
    return 2;
}
var url = new Uri(args[0]);
var token = Environment.GetEnvironmentVariable("API_LOAD_TOKEN")
    ?? throw new InvalidOperationException("Set API_LOAD_TOKEN to a bearer token.");
var latencies = new double[clients * requests];
var errors = 0;
string? firstError = null;
var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var connected = 0;
var wall = new Stopwatch();

async Task Client(int client)
{
    // One handler per client: one connection each, as 50 separate scripts would hold.
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        { Timeout = TimeSpan.FromSeconds(60) };
    // API_LOAD_ANONYMOUS=1 sends no token (a route that needs none then costs no sign-in either).
    if (Environment.GetEnvironmentVariable("API_LOAD_ANONYMOUS") != "1")
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    // The connection is opened before the start, so the measurement is of requests, not of TCP handshakes.
    using (var warm = await http.GetAsync(new Uri(url, "/health/live"))) { }
    Interlocked.Increment(ref connected);
    await start.Task; // awaited, not waited: 50 blocked threads would starve this driver's own pool
    for (var i = 0; i < requests; i++)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await http.GetAsync(url);
            var body = await response.Content.ReadAsByteArrayAsync();
            if ((int)response.StatusCode != expected || body.Length == 0)
                Fail($"HTTP {(int)response.StatusCode}");
        }
        catch (Exception e) { Fail(e.GetType().Name + ": " + e.Message); }
        latencies[client * requests + i] = watch.Elapsed.TotalMilliseconds;
    }
}

void Fail(string what)
{
    Interlocked.Increment(ref errors);
    Interlocked.CompareExchange(ref firstError, what, null);
}

var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(c))).ToArray();
while (Volatile.Read(ref connected) < clients && !tasks.Any(t => t.IsFaulted)) await Task.Delay(10);
wall.Start();
start.SetResult();
await Task.WhenAll(tasks);
wall.Stop();
Array.Sort(latencies);
double At(double q) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
Console.WriteLine(string.Join('\t', latencies.Length, errors, At(0.50).ToString("F0"), At(0.95).ToString("F0"),
    At(0.99).ToString("F0"), latencies[^1].ToString("F0"), wall.Elapsed.TotalSeconds.ToString("F1"),
    firstError ?? ""));
return 0;
