using System.Collections.Concurrent;

namespace BackupManager.Web.Identity;

/// <summary>
/// Slows password guessing without locking anyone out. Failed sign-ins are counted per e-mail address as typed
/// (whether or not such an account exists, so the answers never tell) and per client address; after
/// <see cref="FreeFailures"/> failures each further attempt must wait twice as long as the last, up to
/// <see cref="MaxDelay"/>. A success clears both counts. Nothing here touches the account itself: its API tokens keep
/// working, and someone who knows an address cannot keep its owner out for more than the current delay.
/// </summary>
public sealed class SignInThrottle(TimeProvider time)
{
    public const int FreeFailures = 3;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);
    private const int MaxTracked = 100_000;

    private sealed record Failures(int Count, DateTimeOffset Last);
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    /// <summary>How long the caller must still wait before this attempt may be checked; zero when it may go ahead.</summary>
    public TimeSpan WaitBeforeAttempt(string email, string? address)
    {
        var now = time.GetUtcNow();
        var wait = TimeSpan.Zero;
        foreach (var key in Keys(email, address))
            if (_failures.TryGetValue(key, out var failures))
            {
                var remaining = failures.Last + DelayAfter(failures.Count) - now;
                if (remaining > wait) wait = remaining;
            }
        return wait;
    }

    public void RecordFailure(string email, string? address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count > MaxTracked) Prune(now);
        foreach (var key in Keys(email, address))
            _failures.AddOrUpdate(key, _ => new Failures(1, now), (_, f) => now - f.Last > Forget ? new Failures(1, now) : new Failures(f.Count + 1, now));
    }

    public void RecordSuccess(string email, string? address)
    {
        foreach (var key in Keys(email, address)) _failures.TryRemove(key, out _);
    }

    /// <summary>No wait for the first failures, then 1 s, 2 s, 4 s … up to <see cref="MaxDelay"/>.</summary>
    public static TimeSpan DelayAfter(int failures) =>
        failures <= FreeFailures ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, Math.Pow(2, Math.Min(failures - FreeFailures - 1, 20))));

    private static IEnumerable<string> Keys(string email, string? address)
    {
        yield return "account:" + email.Trim().ToUpperInvariant()[..Math.Min(email.Trim().Length, 256)];
        if (address is not null) yield return "address:" + address;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, failures) in _failures)
            if (now - failures.Last > Forget) _failures.TryRemove(key, out _);
        // A spray of invented addresses must not grow memory without bound; the per-address rate limit still applies.
        if (_failures.Count > 2 * MaxTracked) _failures.Clear();
    }
}
