using System.Security.Cryptography;
using System.Text;
using BackupManager.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace BackupManager.Web.Identity;

/// <summary>
/// Issues, finds and revokes personal access tokens. A token is "bm_" + 40 random base62 characters; only its
/// SHA-256 is stored, so a database leak does not leak usable tokens. Creating and revoking are audited here, for every
/// front end, with who acted (<c>actedBy</c>: the page's user or <c>console:&lt;user&gt;</c>), saying so when someone
/// revokes another user's token.
/// </summary>
public sealed class PersonalAccessTokenService(ApplicationDbContext db, UserManager<ApplicationUser> users,
    TimeProvider time, Core.Audit.AuditLog audit)
{
    public const string TokenPrefix = "bm_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// Creates a token for the user with <paramref name="email"/>, valid for <paramref name="expiresIn"/> (null: until
    /// revoked), and returns the secret (shown once).
    /// </summary>
    public async Task<string> CreateAsync(string email, string name, CancellationToken cancellationToken = default,
        TimeSpan? expiresIn = null,
        Core.Jobs.Actor? actedBy = null)
    {
        var user = await users.FindByEmailAsync(email)
            ?? throw new UserAccountException($"There is no user with the e-mail {email}.");
        var secret = TokenPrefix + RandomNumberGenerator.GetString(Alphabet, 40);
        db.PersonalAccessTokens.Add(new PersonalAccessToken
        {
            Id = Guid.NewGuid(),
            UserId = user.Id,
            Name = string.IsNullOrWhiteSpace(name) ? "token" : name.Trim(),
            TokenHash = Hash(secret),
            Prefix = secret[..10],
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = expiresIn is { } lifetime ? time.GetUtcNow() + lifetime : null,
        });
        await db.SaveChangesAsync(cancellationToken);
        var who = actedBy ?? new Core.Jobs.Actor(email, null);
        audit.Record(who.Name, who.Address, "create-token", $"{secret[..10]} ({name}) of {email}",
            Core.Audit.AuditOutcome.Succeeded,
            expiresIn is { } days ? $"expires after {days.TotalDays:0.#} days" : "does not expire");
        return secret;
    }

    /// <summary>The user of a live (not revoked, not expired) token, recording its use; null for an unknown, revoked or
    /// expired token.</summary>
    public async Task<ApplicationUser?> FindUserAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (!secret.StartsWith(TokenPrefix, StringComparison.Ordinal) || secret.Length > 100) return null;
        var hash = Hash(secret);
        var token = await db.PersonalAccessTokens.Include(t => t.User)
            .SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        var now = time.GetUtcNow();
        if (token is null || token.RevokedAt is not null || token.User is null || token.ExpiresAt <= now) return null;
        // Record use at most once a minute: a busy script must not turn every request into a write.
        if (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }
        return token.User;
    }

    public async Task<IReadOnlyList<TokenSummary>> ListAsync(string? userId = null,
        CancellationToken cancellationToken = default) =>
        await db.PersonalAccessTokens.Where(t => userId == null || t.UserId == userId)
            .OrderByDescending(t => t.CreatedAt)
            .Select(t => new TokenSummary(t.Id, t.Name, t.Prefix, t.User!.Email!, t.CreatedAt, t.LastUsedAt,
                t.RevokedAt, t.ExpiresAt))
            .ToListAsync(cancellationToken);

    /// <summary>Revokes a token by its id or its visible prefix; returns false when none matched.</summary>
    public async Task<bool> RevokeAsync(string idOrPrefix, string? ownerUserId = null,
        CancellationToken cancellationToken = default, Core.Jobs.Actor? actedBy = null)
    {
        var byId = Guid.TryParse(idOrPrefix, out var id);
        var tokens = await db.PersonalAccessTokens.Include(t => t.User)
            .Where(t => t.RevokedAt == null && (byId ? t.Id == id : t.Prefix == idOrPrefix)
                && (ownerUserId == null || t.UserId == ownerUserId))
            .ToListAsync(cancellationToken);
        if (tokens.Count != 1) return false;
        tokens[0].RevokedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var owner = tokens[0].User?.Email ?? "(unknown user)";
        var who = actedBy ?? new Core.Jobs.Actor("unknown", null);
        // Revoking another user's token is recorded as such: it may be a response to an incident, or the start of one.
        audit.Record(who.Name, who.Address, "revoke-token", $"{tokens[0].Prefix} ({tokens[0].Name}) of {owner}",
            Core.Audit.AuditOutcome.Succeeded,
            string.Equals(who.Name, owner, StringComparison.OrdinalIgnoreCase) ? null
                : $"revoked a token of another user, {owner}");
        return true;
    }

    /// <summary>"90d", "12h" or "2w" as a lifetime; null when it does not parse (or is not positive).</summary>
    public static TimeSpan? ParseLifetime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length < 2) return null;
        if (!int.TryParse(text[..^1], System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 100_000) return null;
        return char.ToLowerInvariant(text[^1]) switch
        {
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            _ => null,
        };
    }

    private static string Hash(string secret)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
