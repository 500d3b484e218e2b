namespace BackupManager.Core;

/// <summary>The one spelling of a priority for the API and the console.</summary>
public static class BackupPriorities
{
    /// <summary>"low" or "normal" (any case); null or empty gives <paramref name="fallback"/>; anything else
    /// null.</summary>
    public static BackupPriority? Parse(string? text, BackupPriority fallback) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => fallback,
        "low" => BackupPriority.Low,
        "normal" => BackupPriority.Normal,
        _ => null,
    };
}
