namespace BackupManager.Web.Data;

/// <summary>
/// A bearer token for scripts. Only the SHA-256 of the secret is stored; the secret is shown once when created.
/// The token acts with its user's permissions, checked at each request.
/// </summary>
public sealed class PersonalAccessToken
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public ApplicationUser? User { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole token string.</summary>
    public required string TokenHash { get; set; }
    /// <summary>The first characters of the token, to recognise it in a list.</summary>
    public required string Prefix { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary>After this instant the token no longer authenticates; null: it does not expire.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}
