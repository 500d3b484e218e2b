using System.Security.Claims;
using BackupManager.Web.Data;
using BackupManager.Web.Identity;
using Microsoft.Extensions.Time.Testing;

namespace BackupManager.Tests.Api;

public sealed class TokenClaimsCacheTests
{
    private int _builds;

    private Task<IEnumerable<Claim>> Build(ApplicationUser user)
    {
        _builds++;
        return Task.FromResult<IEnumerable<Claim>>([new Claim(ClaimTypes.Name, $"{user.UserName} #{_builds}")]);
    }

    [Fact]
    public async Task Claims_are_rebuilt_when_the_users_row_changed_or_the_entry_is_older_than_its_limit()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new TokenClaimsCache(clock);
        var user = new ApplicationUser { Id = "u1", UserName = "admin", SecurityStamp = "s1", ConcurrencyStamp = "c1" };

        await cache.GetAsync(user, Build);
        await cache.GetAsync(user, Build);
        Assert.Equal(1, _builds); // the same row: the claims built once serve again

        user.ConcurrencyStamp = "c2"; // a role added or removed renews it
        await cache.GetAsync(user, Build);
        Assert.Equal(2, _builds);
        user.SecurityStamp = "s2"; // a permission withdrawn (UserAccountService renews the security stamp)
        await cache.GetAsync(user, Build);
        Assert.Equal(3, _builds);

        clock.Advance(TokenClaimsCache.MaxAge);
        var claims = await cache.GetAsync(user, Build);
        Assert.Equal(4, _builds);
        Assert.Equal("admin #4", claims.Single().Value);
    }
}
