namespace BackupManager.Web.Identity;

/// <summary>A token as lists show it; never the secret.</summary>
public sealed record TokenSummary(Guid Id, string Name, string Prefix, string UserEmail, DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt = null);
