using System.Collections.Concurrent;
using System.Security.Claims;
using BackupManager.Web.Data;

namespace BackupManager.Web.Identity;

/// <summary>
/// The claims of a token's user, kept between requests: building them costs four queries (user claims, roles, each
/// role and its claims), which were most of a token request's work (bench/api-load.sh; docs/performance.md, "The API
/// under load"). An entry holds only while the user's row is the one it was built from: every change of roles,
/// permissions or claims renews the user's concurrency stamp (and UserAccountService renews the security stamp), and
/// the row is read fresh with the token on every request, so a withdrawn permission still takes effect at once, also
/// after a restore swapped the user database. <see cref="MaxAge"/> bounds the one thing the row does not show: a
/// change to a role's own claims.
/// </summary>
public sealed class TokenClaimsCache(TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);
    /// <summary>Users with tokens are few (the clinic's staff and scripts); past this many, the cache starts
    /// over.</summary>
    private const int MaxEntries = 1_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The claims of <paramref name="user"/>, built by <paramref name="build"/> unless an entry for this very
    /// version of the user's row is younger than <see cref="MaxAge"/>.</summary>
    public async Task<IReadOnlyList<Claim>> GetAsync(ApplicationUser user,
        Func<ApplicationUser, Task<IEnumerable<Claim>>> build)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(user.Id, out var entry) && entry.SecurityStamp == user.SecurityStamp
            && entry.ConcurrencyStamp == user.ConcurrencyStamp && now - entry.BuiltAt < MaxAge)
            return entry.Claims;
        var claims = (await build(user)).ToList();
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[user.Id] = new Entry(user.SecurityStamp, user.ConcurrencyStamp, now, claims);
        return claims;
    }

    private sealed record Entry(string? SecurityStamp, string? ConcurrencyStamp, DateTimeOffset BuiltAt,
        IReadOnlyList<Claim> Claims);
}
