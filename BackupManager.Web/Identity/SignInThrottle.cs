using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;

namespace BackupManager.Web.Identity;

/// <summary>
/// Slows password guessing without locking anyone out, so that the wait costs the guesser and not the owner.
/// Failed sign-ins are counted per account and client together, per client, and per account (whether or not such an
/// account exists, so the answers never tell). The account is the typed address normalized exactly as the user
/// store looks it up (<see cref="ILookupNormalizer"/>): <c>dr.&#x212A;irk</c> (KELVIN SIGN) and <c>dr.kirk</c> are
/// one account there, so they are one key here. After <see cref="FreeFailures"/> failures at one account, or
/// <see cref="ClientFreeFailures"/> across accounts, a client waits 1, 2, 4 … seconds before each further attempt,
/// up to <see cref="MaxDelay"/>. The account's own count, which failures from anywhere raise, slows only clients that
/// have
/// failed at it themselves: a correct password from a client that has not failed is always let through, so someone
/// failing elsewhere cannot keep the owner out. A success clears its client's counts. Nothing here touches the
/// account itself: its API tokens keep working.
/// </summary>
public sealed class SignInThrottle(TimeProvider time, ILookupNormalizer normalizer)
{
    /// <summary>Failures at one account from one client that cost nothing; the next attempt waits.</summary>
    public const int FreeFailures = 3;
    /// <summary>Failures from one client across all accounts that cost nothing (a clinic's shared address).</summary>
    public const int ClientFreeFailures = 10;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);
    private const int MaxTracked = 100_000;

    private sealed record Failures(int Count, DateTimeOffset Last);
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    /// <summary>The key the user store finds the account under; the throttle and every budget use this one.</summary>
    public string AccountKey(string email)
    {
        var trimmed = email.Trim();
        var normalized = normalizer.NormalizeName(trimmed) ?? trimmed;
        return normalized[..Math.Min(normalized.Length, 256)];
    }

    /// <summary>How long the caller must still wait before this attempt may be checked; zero when it may go
    /// ahead.</summary>
    public TimeSpan WaitBeforeAttempt(string email, string? address)
    {
        var now = time.GetUtcNow();
        var (pair, client, account) = Keys(email, address);
        var wait = Remaining(pair, FreeFailures, now);
        wait = Max(wait, Remaining(client, ClientFreeFailures, now));
        // Failures from other clients count only once this client has failed at the account itself.
        if (Current(pair, now) is not null) wait = Max(wait, Remaining(account, FreeFailures, now));
        return wait;
    }

    public void RecordFailure(string email, string? address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count > MaxTracked) Prune(now);
        var (pair, client, account) = Keys(email, address);
        foreach (var key in new[] { pair, client, account })
            _failures.AddOrUpdate(key, _ => new Failures(1, now),
                (_, f) => now - f.Last > Forget ? new Failures(1, now) : new Failures(f.Count + 1, now));
    }

    /// <summary>Clears this client's counts; the account's count stays: it records guessing from elsewhere.</summary>
    public void RecordSuccess(string email, string? address)
    {
        var (pair, client, _) = Keys(email, address);
        _failures.TryRemove(pair, out _);
        _failures.TryRemove(client, out _);
    }

    /// <summary>No wait before <paramref name="free"/> failures, then 1 s, 2 s, 4 s … up to <see
    /// cref="MaxDelay"/>.</summary>
    public static TimeSpan DelayAfter(int failures, int free = FreeFailures) =>
        failures < free ? TimeSpan.Zero
            : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, Math.Pow(2, Math.Min(failures - free, 20))));

    private Failures? Current(string key, DateTimeOffset now) =>
        _failures.TryGetValue(key, out var failures) && now - failures.Last <= Forget ? failures : null;

    private TimeSpan Remaining(string key, int free, DateTimeOffset now) =>
        Current(key, now) is { } failures
            ? Max(TimeSpan.Zero, failures.Last + DelayAfter(failures.Count, free) - now)
            : TimeSpan.Zero;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private (string Pair, string Client, string Account) Keys(string email, string? address)
    {
        var account = AccountKey(email);
        var client = address ?? "unknown";
        return ("pair:" + client + "\n" + account, "client:" + client, "account:" + account);
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, failures) in _failures)
            if (now - failures.Last > Forget) _failures.TryRemove(key, out _);
        // A spray of invented addresses must not grow memory without bound; the per-address rate limit still applies.
        if (_failures.Count > 2 * MaxTracked) _failures.Clear();
    }
}
