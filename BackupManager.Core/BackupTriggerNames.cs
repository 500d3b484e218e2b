namespace BackupManager.Core;

/// <summary>The one spelling of a trigger shared by manifests, the API, the console and the page.</summary>
public static class BackupTriggerNames
{
    /// <summary>"manual", "daily", "weekly", "pre-restore", "upload", "unknown" or "point-in-time".</summary>
    public static string ToName(this BackupTrigger trigger) =>
        System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(trigger.ToString());
}
